using System.Net;
using System.Text;

namespace FaceNetSharp.Server.Tests;

/// <summary>What a caller gets wrong, and the limits: each answered with a status and a problem+json message.</summary>
[Collection(ServerCollection.Name)]
public sealed class BadInputTests(ServerFixture fixture)
{
    [SkippableFact]
    public async Task Text_uploaded_as_an_image_is_400_not_a_readable_image()
    {
        await using var s = await fixture.StartAsync();
        var form = new MultipartFormDataContent { { Form.Bytes(Encoding.UTF8.GetBytes("hello, this is not a photo"), "image/jpeg"), "image", "notes.jpg" } };
        var problem = await Json.ProblemAsync(await s.Client.PostAsync("/v1/detect", form), HttpStatusCode.BadRequest);
        Assert.Equal("Not a readable image", problem.Title);
        Assert.Contains("image (notes.jpg)", problem.Detail);
        Assert.Contains("not a supported image", problem.Detail);
    }

    [SkippableFact]
    public async Task An_empty_file_is_400_empty()
    {
        await using var s = await fixture.StartAsync();
        var form = new MultipartFormDataContent { { Form.Bytes([], "image/png"), "image", "empty.png" } };
        var problem = await Json.ProblemAsync(await s.Client.PostAsync("/v1/embed", form), HttpStatusCode.BadRequest);
        Assert.Contains("empty", problem.Detail);
    }

    [SkippableFact]
    public async Task A_truncated_jpeg_is_400()
    {
        var bytes = File.ReadAllBytes(Photos.Hopkins1);
        await using var s = await fixture.StartAsync();
        var form = new MultipartFormDataContent { { Form.Bytes(bytes[..(bytes.Length / 3)], "image/jpeg"), "image", "cut.jpg" } };
        var problem = await Json.ProblemAsync(await s.Client.PostAsync("/v1/detect", form), HttpStatusCode.BadRequest);
        Assert.Contains("truncated", problem.Detail);
    }

    [SkippableFact]
    public async Task A_missing_field_is_400_naming_the_field()
    {
        var path = Photos.Hopkins1;
        await using var s = await fixture.StartAsync();
        var problem = await Json.ProblemAsync(await s.Client.PostAsync("/v1/verify", Form.Of(("image1", path))), HttpStatusCode.BadRequest);
        Assert.Contains("'image2'", problem.Detail);
        Assert.Contains("'image1'", problem.Detail);
    }

    [SkippableFact]
    public async Task A_body_that_is_not_multipart_is_415()
    {
        var path = Photos.Hopkins1;
        await using var s = await fixture.StartAsync();
        var problem = await Json.ProblemAsync(await s.Client.PostAsync("/v1/detect", Form.File(path)), HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("image/jpeg", problem.Detail);
    }

    [SkippableFact]
    public async Task A_bad_top_is_400()
    {
        var path = Photos.Hopkins1;
        await using var s = await fixture.StartAsync();
        var problem = await Json.ProblemAsync(
            await s.Client.PostAsync("/v1/identify", ApiTests.WithTop(Form.Of(("image", path)), "0")), HttpStatusCode.BadRequest);
        Assert.Contains("'top'", problem.Detail);
    }

    [SkippableFact]
    public async Task A_body_over_the_request_limit_is_413()
    {
        var path = Photos.Hopkins1;
        await using var s = await fixture.StartAsync(o => o with { MaxRequestBytes = 1024 * 1024 });
        // A real photo followed by 2 MiB of padding in a second field: over the 1 MiB limit.
        var form = Form.Of(("image", path));
        form.Add(Form.Bytes(new byte[2 * 1024 * 1024]), "padding", "padding.bin");
        var problem = await Json.ProblemAsync(await s.Client.PostAsync("/v1/detect", form), HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("1048576 bytes", problem.Detail);

        // The same photo alone is within the limit.
        await Json.OkAsync<DetectResponse>(await s.Client.PostAsync("/v1/detect", Form.Of(("image", path))));
    }

    [SkippableFact]
    public async Task An_image_over_the_pixel_limit_is_413_before_decoding()
    {
        var path = Photos.Hopkins1; // 250 x 250 = 62,500 pixels
        await using var s = await fixture.StartAsync(o => o with { MaxPixels = 50_000 });
        var problem = await Json.ProblemAsync(await s.Client.PostAsync("/v1/detect", Form.Of(("image", path))), HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("Image too large", problem.Title);
        Assert.Contains("250x250", problem.Detail);
        Assert.Contains("--max-pixels", problem.Detail); // the server names its own flag
    }

    [SkippableFact]
    public async Task The_api_key_is_required_on_v1_only()
    {
        var path = Photos.Hopkins1;
        await using var s = await fixture.StartAsync(o => o with { ApiKey = "correct horse battery staple" });

        var missing = await Json.ProblemAsync(await s.Client.PostAsync("/v1/detect", Form.Of(("image", path))), HttpStatusCode.Unauthorized);
        Assert.Contains("X-Api-Key", missing.Detail);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/v1/gallery") { Headers = { { "X-Api-Key", "correct horse battery" } } };
        var wrongProblem = await Json.ProblemAsync(await s.Client.SendAsync(wrong), HttpStatusCode.Unauthorized);
        Assert.Contains("does not hold", wrongProblem.Detail);

        using var right = new HttpRequestMessage(HttpMethod.Post, "/v1/detect")
        {
            Headers = { { "X-Api-Key", "correct horse battery staple" } },
            Content = Form.Of(("image", path)),
        };
        var detected = await Json.OkAsync<DetectResponse>(await s.Client.SendAsync(right));
        Assert.Single(detected.Faces);

        // Health, the page and the OpenAPI document stay open.
        var health = await Json.OkAsync<HealthResponse>(await s.Client.GetAsync("/health"));
        Assert.True(health.ApiKeyRequired);
        Assert.Equal(HttpStatusCode.OK, (await s.Client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await s.Client.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [SkippableFact]
    public async Task A_request_that_finds_every_inference_slot_taken_is_503_with_retry_after()
    {
        var path = Photos.Hopkins1;
        await using var s = await fixture.StartAsync(o => o with { MaxConcurrency = 1, QueueTimeout = TimeSpan.FromMilliseconds(200) });
        var gate = s.Server.Service.Gate;
        // Hold the server's only slot, as a long inference would.
        Assert.True(await gate.TryTakeAsync(TimeSpan.Zero));
        try
        {
            var response = await s.Client.PostAsync("/v1/detect", Form.Of(("image", path)));
            var problem = await Json.ProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            Assert.Contains("busy", problem.Detail);
            Assert.Equal(1, gate.Rejected);
        }
        finally
        {
            gate.Give();
        }
        await Json.OkAsync<DetectResponse>(await s.Client.PostAsync("/v1/detect", Form.Of(("image", path))));
    }
}
