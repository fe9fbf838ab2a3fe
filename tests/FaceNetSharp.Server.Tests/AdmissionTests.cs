using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;

namespace FaceNetSharp.Server.Tests;

/// <summary>
/// The pixel budget: large images are admitted by their decoded size (from the header, before decoding); those that
/// do not fit beside the ones in flight are answered 503 + Retry-After, one that could never fit 413.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class AdmissionTests(ServerFixture fixture)
{
    /// <summary>A PNG of one colour: a few kB encoded, <paramref name="width"/> x <paramref name="height"/> decoded.</summary>
    internal static byte[] OneColourPng(int width, int height)
    {
        var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[1 + 3 * width];
            for (int x = 0; x < width; x++) (row[1 + 3 * x], row[2 + 3 * x], row[3 + 3 * x]) = (0x80, 0x90, 0xA0);
            for (int y = 0; y < height; y++) z.Write(row);
        }
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type: RGB
        Chunk(png, "IHDR"u8, ihdr);
        Chunk(png, "IDAT"u8, raw.ToArray());
        Chunk(png, "IEND"u8, []);
        return png.ToArray();

        static void Chunk(Stream s, ReadOnlySpan<byte> type, byte[] data)
        {
            Span<byte> word = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
            s.Write(word);
            s.Write(type);
            s.Write(data);
            BinaryPrimitives.WriteUInt32BigEndian(word, ~Crc32(Crc32(0xFFFFFFFF, type), data));
            s.Write(word);
        }

        // CRC-32 as the PNG specification defines it (polynomial 0xEDB88320, reflected), bit by bit.
        static uint Crc32(uint crc, ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes)
            {
                crc ^= b;
                for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
            }
            return crc;
        }
    }

    private static MultipartFormDataContent Upload(byte[] png) =>
        new() { { Form.Bytes(png, "image/png"), "image", "large.png" } };

    [SkippableFact]
    public async Task Concurrent_large_uploads_over_the_pixel_budget_are_503_with_retry_after()
    {
        // 3000x3000 = 9 Mpx each; the budget holds one of them, not two. No queueing: what does not fit now is refused.
        var png = OneColourPng(3000, 3000);
        await using var s = await fixture.StartAsync(o => o with
        {
            MaxPixelsInFlight = 12_000_000, MaxConcurrency = 4, QueueTimeout = TimeSpan.Zero,
        });
        var gate = s.Server.Service.Gate;

        // The first is admitted and then held in the gate (its pixels in flight) until the others have been answered:
        // detecting one colour takes well under a second, so without the hold it could end before they arrive.
        var admitted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.AdmittedHook = () => { admitted.TrySetResult(); return release.Task; };
        var first = s.Client.PostAsync("/v1/detect", Upload(png));
        await admitted.Task.WaitAsync(TimeSpan.FromSeconds(60));
        gate.AdmittedHook = null;
        Assert.False(first.IsCompleted);
        Assert.Equal(9_000_000, gate.PixelsInFlight);

        var others = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => s.Client.PostAsync("/v1/detect", Upload(png))));
        foreach (var response in others)
        {
            var problem = await Json.ProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("Server busy", problem.Title);
            Assert.Contains("12,000,000 pixels", problem.Detail);
            Assert.Contains("9,000,000", problem.Detail);
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        }

        release.SetResult();
        var done = await Json.OkAsync<DetectResponse>(await first);
        Assert.Equal(3000, done.Width);
        Assert.Equal(0, gate.PixelsInFlight);
        Assert.Equal(3, gate.Rejected);

        // Once it is done, the next one is admitted.
        await Json.OkAsync<DetectResponse>(await s.Client.PostAsync("/v1/detect", Upload(OneColourPng(1000, 1000))));
    }

    [SkippableFact]
    public async Task Small_images_are_admitted_beside_each_other_within_the_budget()
    {
        var hopkins = Photos.Hopkins1; // 250x250
        await using var s = await fixture.StartAsync(o => o with { MaxPixelsInFlight = 200_000, QueueTimeout = TimeSpan.FromMinutes(1) });
        // Eight at once: at most three fit beside each other; the rest wait their turn and all are served.
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => s.Client.PostAsync("/v1/detect", Form.Of(("image", hopkins)))));
        foreach (var a in answers) Assert.Single((await Json.OkAsync<DetectResponse>(a)).Faces);
        Assert.Equal(0, s.Server.Service.Gate.PixelsInFlight);
    }

    [SkippableFact]
    public async Task An_image_larger_than_the_whole_budget_is_413_naming_it()
    {
        var hopkins = Photos.Hopkins1; // 250x250 = 62,500 pixels
        await using var s = await fixture.StartAsync(o => o with { MaxPixelsInFlight = 100_000 });
        var png = OneColourPng(400, 300);
        var problem = await Json.ProblemAsync(await s.Client.PostAsync("/v1/detect", Upload(png)), HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("Image too large", problem.Title);
        Assert.Contains("image (large.png) is 400x300 = 120,000 pixels", problem.Detail);
        Assert.Contains("--max-pixels-in-flight", problem.Detail);

        // Verify holds both images at once: two that fit alone but not together are 413 too.
        var both = await Json.ProblemAsync(
            await s.Client.PostAsync("/v1/verify", Form.Of(("image1", hopkins), ("image2", Photos.Hopkins2))), HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("125,000 pixels together", both.Detail);

        // Enrolment decodes one photo after another: two of them fit.
        await Json.OkAsync<EnrolResponse>(await s.Client.PostAsync("/v1/gallery/Hopkins", Form.Of(("image", hopkins), ("image", Photos.Hopkins2))), HttpStatusCode.Created);

        var health = await Json.OkAsync<HealthResponse>(await s.Client.GetAsync("/health"));
        Assert.Equal(100_000, health.MaxPixelsInFlight);
    }

    [SkippableFact]
    public async Task The_server_gives_memory_back_once_idle_after_work_and_not_while_idle()
    {
        await using var s = await fixture.StartAsync();
        var trimmer = s.Server.Trimmer!;
        await Task.Delay(1500);
        Assert.Equal(0, trimmer.Trims); // nothing worked on yet: nothing to give back

        await Json.OkAsync<DetectResponse>(await s.Client.PostAsync("/v1/detect", Form.Of(("image", Photos.Hopkins1))));
        for (int i = 0; i < 100 && trimmer.Trims == 0; i++) await Task.Delay(100);
        Assert.Equal(1, trimmer.Trims);

        // Idle without new work: no further collections.
        await Task.Delay(1500);
        Assert.Equal(1, trimmer.Trims);
    }
}
