using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;

namespace FaceNetSharp.Server.Tests;

/// <summary>
/// The web page in a real headless Chromium (Debian's, at /usr/bin/chromium; scripts/install-test-deps.sh installs
/// it), driven by Playwright against a real server on loopback.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class PageTests(ServerFixture fixture)
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>
    /// Flags for this machine's closed network (no background connections, no component or sync updates) and for
    /// running as root in a container (no sandbox). Playwright adds --headless itself.
    /// </summary>
    private static readonly string[] ChromiumFlags =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    [SkippableFact]
    public async Task Another_sites_page_can_neither_enrol_nor_read_the_gallery_even_through_dns_rebinding()
    {
        Skip.IfNot(File.Exists(Chromium), $"{Chromium} is absent: run scripts/install-test-deps.sh (Debian package chromium)");
        var photo = File.ReadAllBytes(Photos.Hopkins1);
        await using var s = await fixture.StartAsync();
        s.Gallery.AddFaces("Anthony Hopkins", [(fixture.Recognizer.EmbedLargestFace(Imaging.ImageLoader.Load(Photos.Hopkins1))!.Vector, null)]);
        int port = s.Address.Port;

        // DNS rebinding as the browser sees it: the attacker's name resolves to 127.0.0.1 (the resolver rule stands in
        // for the attacker's DNS server), so its page and the server share an origin.
        var profile = Directory.CreateTempSubdirectory("facenet-chromium-");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchPersistentContextAsync(profile.FullName, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = [.. ChromiumFlags, "--host-resolver-rules=MAP rebind.test 127.0.0.1"],
            Timeout = 60_000,
        });
        try
        {
            var page = browser.Pages.Count > 0 ? browser.Pages[0] : await browser.NewPageAsync();
            page.SetDefaultTimeout(60_000);
            var rebound = await page.GotoAsync($"http://rebind.test:{port}/v1/gallery");
            Assert.Equal(400, rebound!.Status);
            Assert.DoesNotContain("Hopkins", await page.ContentAsync());

            // A page of another site (a second server on loopback: localhost, another port) posting a face the way
            // any page can: a multipart form, no-cors, the answer unreadable to it but the request sent.
            await using var attacker = await AttackerSiteAsync();
            await page.GotoAsync(attacker.Url);
            var sent = await page.EvaluateAsync<string>(
                """
                async ([url, bytes]) => {
                  const form = new FormData();
                  form.append("image", new Blob([new Uint8Array(bytes)], { type: "image/jpeg" }), "face.jpg");
                  try { await fetch(url, { method: "POST", body: form, mode: "no-cors" }); return "sent"; }
                  catch (e) { return "failed: " + e.message; }
                }
                """,
                new object[] { $"http://127.0.0.1:{port}/v1/gallery/Mallory", photo.Select(b => (int)b).ToArray() });
            Assert.Equal("sent", sent);
            Assert.Equal(["Anthony Hopkins"], s.Gallery.List().Select(p => p.Name));
        }
        finally
        {
            await browser.CloseAsync();
            try { profile.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Another web site on loopback (http://localhost:PORT/), serving one empty page.</summary>
    private static async Task<AttackerSite> AttackerSiteAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        app.MapGet("/", () => Microsoft.AspNetCore.Http.Results.Content("<!doctype html><title>another site</title>", "text/html"));
        await app.StartAsync();
        var address = new Uri(app.Urls.Single());
        return new AttackerSite(app, $"http://localhost:{address.Port}/");
    }

    private sealed record AttackerSite(WebApplication App, string Url) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    [SkippableFact]
    public async Task Verify_enrol_and_identify_from_the_page()
    {
        Skip.IfNot(File.Exists(Chromium), $"{Chromium} is absent: run scripts/install-test-deps.sh (Debian package chromium)");
        var hopkins1 = Photos.Hopkins1;
        var hopkins2 = Photos.Hopkins2;
        var obama = Photos.Obama;
        await using var s = await fixture.StartAsync();

        var profile = Directory.CreateTempSubdirectory("facenet-chromium-");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchPersistentContextAsync(profile.FullName, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ChromiumFlags,
            Timeout = 60_000,
        });
        try
        {
            var page = browser.Pages.Count > 0 ? browser.Pages[0] : await browser.NewPageAsync();
            page.SetDefaultTimeout(60_000);
            await page.GotoAsync(s.Address.ToString());
            await Assertions.Expect(page.Locator("#model")).ToContainTextAsync(fixture.Recognizer.Model.Name);

            // Two photos of one person: the verdict, and the boxes the server returned drawn on both canvases.
            await page.Locator("#photo1").SetInputFilesAsync(hopkins1);
            await page.Locator("#photo2").SetInputFilesAsync(hopkins2);
            await page.Locator("#verify").ClickAsync();
            var verdict = page.Locator("#verdict");
            await Assertions.Expect(verdict).ToContainTextAsync("Same person (distance 0.");
            await Assertions.Expect(verdict).ToHaveClassAsync("same");

            var expected = fixture.Recognizer.EmbedLargestFace(Imaging.ImageLoader.Load(hopkins1))!.Face.Box;
            var canvas = await page.EvaluateAsync<int[]>(
                """([x, y]) => { const c = document.getElementById("canvas1"); const p = c.getContext("2d").getImageData(x, y, 1, 1).data; return [c.width, c.height, p[0], p[1], p[2]]; }""",
                new[] { (int)Math.Round(expected.X1), (int)Math.Round((expected.Y1 + expected.Y2) / 2) });
            Assert.Equal(250, canvas[0]);
            Assert.Equal(250, canvas[1]);
            // The box's left edge, mid-height, is the box colour (#00e640), not the photo.
            Assert.InRange(canvas[2], 0, 60);
            Assert.InRange(canvas[3], 180, 255);
            Assert.InRange(canvas[4], 0, 110);

            // Another person: the verdict changes.
            await page.Locator("#photo2").SetInputFilesAsync(obama);
            await page.Locator("#verify").ClickAsync();
            await Assertions.Expect(verdict).ToContainTextAsync("Different people");

            // Enrol, then identify another photo of him.
            await page.Locator("#enrol-name").FillAsync("Anthony Hopkins");
            await page.Locator("#enrol-photos").SetInputFilesAsync(hopkins1);
            await page.Locator("#enrol-form button[type=submit]").ClickAsync();
            await Assertions.Expect(page.Locator("#enrol-status")).ToContainTextAsync("Enrolled Anthony Hopkins: 1 face(s) added");
            await Assertions.Expect(page.Locator("#gallery")).ToContainTextAsync("Anthony Hopkins (1 face)");
            Assert.Equal(["Anthony Hopkins"], s.Gallery.List().Select(p => p.Name));

            await page.Locator("#identify-photo").SetInputFilesAsync(hopkins2);
            await Assertions.Expect(page.Locator("#identify-result")).ToContainTextAsync("Anthony Hopkins (nearest: Anthony Hopkins 0.");

            var shots = Path.Combine(TestPaths.RepoRoot, "artifacts", "server-page");
            Directory.CreateDirectory(shots);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "page.png"), FullPage = true });
        }
        finally
        {
            await browser.CloseAsync();
            try { profile.Delete(recursive: true); } catch (IOException) { }
        }
    }
}
