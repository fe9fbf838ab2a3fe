using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace FaceNetSharp.Server.Tests;

/// <summary>
/// Requests an attacker or a broken client sends, over real HTTP to a real server on loopback: malformed multipart
/// bodies (400, never 500), foreign Host headers (DNS rebinding: 400), and state-changing requests from other sites'
/// pages (Origin / Sec-Fetch-Site: 403 unless the origin is allowed, then CORS).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class HostileRequestTests(ServerFixture fixture)
{
    private static ByteArrayContent RawMultipart(string body, string boundary = "XX")
    {
        var content = new ByteArrayContent(Encoding.ASCII.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        return content;
    }

    [SkippableFact]
    public async Task A_multipart_body_without_its_closing_boundary_is_400_problem_json()
    {
        await using var s = await fixture.StartAsync();
        var cut = RawMultipart("--XX\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nabcdef");
        var problem = await Json.ProblemAsync(await s.Client.PostAsync("/v1/detect", cut), HttpStatusCode.BadRequest);
        Assert.Equal("Malformed multipart body", problem.Title);
        Assert.Contains("closing boundary", problem.Detail);

        // A body that is not multipart at all, under a multipart Content-Type: the same answer.
        var garbage = await Json.ProblemAsync(await s.Client.PostAsync("/v1/identify", RawMultipart("this is not multipart")), HttpStatusCode.BadRequest);
        Assert.Equal("Malformed multipart body", garbage.Title);

        // Enrolment with a cut body stores nothing, and the server goes on answering.
        var enrol = RawMultipart("--XX\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\n\xff\xd8\xff");
        await Json.ProblemAsync(await s.Client.PostAsync("/v1/gallery/Someone", enrol), HttpStatusCode.BadRequest);
        Assert.Empty(s.Gallery.List());
        await Json.OkAsync<DetectResponse>(await s.Client.PostAsync("/v1/detect", Form.Of(("image", Photos.Hopkins1))));
    }

    [SkippableFact]
    public async Task Other_malformed_bodies_are_4xx_problem_json_with_a_short_message()
    {
        await using var s = await fixture.StartAsync();
        // Multipart without a boundary parameter: the form reader has nothing to split on.
        var noBoundary = new ByteArrayContent("--XX\r\n\r\n--XX--\r\n"u8.ToArray());
        noBoundary.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data");
        var p1 = await Json.ProblemAsync(await s.Client.PostAsync("/v1/detect", noBoundary), HttpStatusCode.BadRequest);
        Assert.Contains("boundary", p1.Detail);

        // An empty multipart body.
        var p2 = await Json.ProblemAsync(await s.Client.PostAsync("/v1/detect", RawMultipart("")), HttpStatusCode.BadRequest);
        Assert.Contains("'image'", p2.Detail);

        // A 200,000-character 'top' field: refused with an excerpt, not echoed whole.
        var form = Form.Of(("image", Photos.Hopkins1));
        form.Add(new StringContent(new string('9', 200_000)), "top");
        var response = await s.Client.PostAsync("/v1/identify", form);
        var p3 = await Json.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("200,000 characters", p3.Detail);
        Assert.True(p3.Detail!.Length < 300, p3.Detail);

        // A part header over the form reader's limit.
        var longHeader = RawMultipart($"--XX\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\nX-Long: {new string('a', 40_000)}\r\n\r\nabc\r\n--XX--\r\n");
        var p4 = await Json.ProblemAsync(await s.Client.PostAsync("/v1/detect", longHeader), HttpStatusCode.BadRequest);
        Assert.Equal("Malformed multipart body", p4.Title);

        // JSON instead of a form.
        var json = new StringContent("{\"image\": \"aGVsbG8=\"}", Encoding.UTF8, "application/json");
        await Json.ProblemAsync(await s.Client.PostAsync("/v1/detect", json), HttpStatusCode.UnsupportedMediaType);
    }

    private static HttpRequestMessage Get(string path, string host) =>
        new(HttpMethod.Get, path) { Headers = { Host = host } };

    [SkippableFact]
    public async Task A_request_whose_host_is_not_the_servers_is_400_so_dns_rebinding_reads_nothing()
    {
        await using var s = await fixture.StartAsync();
        await s.Client.PostAsync("/v1/gallery/Anthony%20Hopkins", Form.Of(("image", Photos.Hopkins1)));
        int port = s.Address.Port;

        // What a rebinding page's requests carry: its own host name, now resolving to 127.0.0.1.
        foreach (var host in new[] { "evil.example", $"evil.example:{port}", $"127.0.0.1:{port + 1}", $"localhost.evil.example:{port}" })
        {
            var response = await s.Client.SendAsync(Get("/v1/gallery", host));
            var text = await response.Content.ReadAsStringAsync();
            var problem = await Json.ProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.Equal("Host not allowed", problem.Title);
            Assert.Contains("--allowed-hosts", problem.Detail);
            Assert.DoesNotContain("Hopkins", text);
            // Nor the page, nor health.
            Assert.Equal(HttpStatusCode.BadRequest, (await s.Client.SendAsync(Get("/", host))).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await s.Client.SendAsync(Get("/health", host))).StatusCode);
        }

        // The names the server listens as, with its port.
        foreach (var host in new[] { $"127.0.0.1:{port}", $"localhost:{port}", $"LOCALHOST:{port}", $"[::1]:{port}" })
        {
            var gallery = await Json.OkAsync<GalleryResponse>(await s.Client.SendAsync(Get("/v1/gallery", host)));
            Assert.Equal(["Anthony Hopkins"], gallery.People.Select(p => p.Name));
        }
    }

    [SkippableFact]
    public async Task Allowed_hosts_add_names_with_or_without_a_port()
    {
        await using var s = await fixture.StartAsync(o => o with { AllowedHosts = ["faces.example", "proxy.example:8443"] });
        Assert.Equal(HttpStatusCode.OK, (await s.Client.SendAsync(Get("/health", "faces.example"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await s.Client.SendAsync(Get("/health", "faces.example:1234"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await s.Client.SendAsync(Get("/health", "proxy.example:8443"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Client.SendAsync(Get("/health", "proxy.example:8444"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Client.SendAsync(Get("/health", "evil.example"))).StatusCode);

        await using var any = await fixture.StartAsync(o => o with { AllowedHosts = ["*"] });
        Assert.Equal(HttpStatusCode.OK, (await any.Client.SendAsync(Get("/health", "evil.example"))).StatusCode);
    }

    private static HttpRequestMessage Enrol(string name, string? origin = null, string? fetchSite = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/gallery/{name}") { Content = Form.Of(("image", Photos.Hopkins1)) };
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (fetchSite is not null) request.Headers.Add("Sec-Fetch-Site", fetchSite);
        return request;
    }

    [SkippableFact]
    public async Task A_cross_site_post_or_delete_is_403_and_changes_nothing()
    {
        await using var s = await fixture.StartAsync();
        string own = $"http://127.0.0.1:{s.Address.Port}";

        // What a form or fetch on another site's page sends.
        foreach (var (origin, site) in new (string?, string?)[]
                 {
                     ("https://evil.example", "cross-site"), ("https://evil.example", null), ("null", "cross-site"),
                     ($"http://localhost:{s.Address.Port + 1}", "same-site"), (null, "cross-site"), (null, "same-site"),
                     ($"http://127.0.0.1:{s.Address.Port + 1}", null),
                 })
        {
            var response = await s.Client.SendAsync(Enrol("Mallory", origin, site));
            var problem = await Json.ProblemAsync(response, HttpStatusCode.Forbidden);
            Assert.Equal("Cross-site request refused", problem.Title);
            Assert.Contains("--allowed-origins", problem.Detail);
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }
        Assert.Empty(s.Gallery.List());

        // The server's own page (same origin), and clients that are not browsers (no Origin, no Sec-Fetch-Site).
        await Json.OkAsync<EnrolResponse>(await s.Client.SendAsync(Enrol("Own page", own, "same-origin")), HttpStatusCode.Created);
        await Json.OkAsync<EnrolResponse>(await s.Client.SendAsync(Enrol("Script")), HttpStatusCode.Created);
        await Json.OkAsync<EnrolResponse>(await s.Client.SendAsync(Enrol("Typed", null, "none")), HttpStatusCode.Created);

        // DELETE from another site: refused, the person stays.
        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/v1/gallery/Script") { Headers = { { "Origin", "https://evil.example" } } };
        await Json.ProblemAsync(await s.Client.SendAsync(delete), HttpStatusCode.Forbidden);
        Assert.Equal(["Own page", "Script", "Typed"], s.Gallery.List().Select(p => p.Name).Order());

        // Reading stays open to GET (a browser keeps the answer from other sites' pages: no CORS headers).
        using var read = new HttpRequestMessage(HttpMethod.Get, "/v1/gallery") { Headers = { { "Origin", "https://evil.example" } } };
        var readResponse = await s.Client.SendAsync(read);
        Assert.Equal(HttpStatusCode.OK, readResponse.StatusCode);
        Assert.False(readResponse.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [SkippableFact]
    public async Task Allowed_origins_may_post_and_get_cors_answers()
    {
        const string app = "https://app.example";
        await using var s = await fixture.StartAsync(o => o with { AllowedOrigins = [app + "/"], ApiKey = "key" });

        // The preflight a browser sends before a POST with the X-Api-Key header.
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/gallery/Anthony")
        {
            Headers =
            {
                { "Origin", app }, { "Access-Control-Request-Method", "POST" }, { "Access-Control-Request-Headers", "x-api-key" },
            },
        };
        var pre = await s.Client.SendAsync(preflight);
        Assert.True(pre.IsSuccessStatusCode, $"preflight answered {(int)pre.StatusCode}");
        Assert.Equal(app, pre.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", pre.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Contains("x-api-key", pre.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);

        var request = Enrol("Anthony", app, "cross-site");
        request.Headers.Add("X-Api-Key", "key");
        var created = await s.Client.SendAsync(request);
        await Json.OkAsync<EnrolResponse>(created, HttpStatusCode.Created);
        Assert.Equal(app, created.Headers.GetValues("Access-Control-Allow-Origin").Single());

        // Failures reach the allowed page too (its script can read the problem's detail).
        using var bad = new HttpRequestMessage(HttpMethod.Post, "/v1/detect")
        {
            Headers = { { "Origin", app }, { "X-Api-Key", "key" } },
            Content = new MultipartFormDataContent { { Form.Bytes("not a photo"u8.ToArray(), "image/jpeg"), "image", "x.jpg" } },
        };
        var badResponse = await s.Client.SendAsync(bad);
        await Json.ProblemAsync(badResponse, HttpStatusCode.BadRequest);
        Assert.Equal(app, badResponse.Headers.GetValues("Access-Control-Allow-Origin").Single());

        // Another origin is still refused.
        var other = Enrol("Mallory", "https://evil.example", "cross-site");
        other.Headers.Add("X-Api-Key", "key");
        await Json.ProblemAsync(await s.Client.SendAsync(other), HttpStatusCode.Forbidden);
        Assert.Equal(["Anthony"], s.Gallery.List().Select(p => p.Name));
    }

    [SkippableFact]
    public async Task A_malformed_allowed_origin_is_refused_at_start()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => fixture.StartAsync(o => o with { AllowedOrigins = ["app.example"] }));
        Assert.Contains("scheme://host", e.Message);
    }
}
