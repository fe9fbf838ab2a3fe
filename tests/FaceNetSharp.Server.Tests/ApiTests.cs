using System.Net;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Server.Tests;

/// <summary>Every endpoint of a real server on loopback, on real photos; answers checked against the library itself.</summary>
[Collection(ServerCollection.Name)]
public sealed class ApiTests(ServerFixture fixture)
{
    [SkippableFact]
    public async Task Health_reports_the_model_and_limits()
    {
        await using var s = await fixture.StartAsync();
        var health = await Json.OkAsync<HealthResponse>(await s.Client.GetAsync("/health"));
        Assert.Equal("ok", health.Status);
        Assert.Equal(fixture.Recognizer.Model.Name, health.Model);
        Assert.Equal(fixture.Recognizer.Model.Dimensions, health.Dimensions);
        Assert.Equal(fixture.Recognizer.Model.Threshold, health.Threshold);
        Assert.False(health.ApiKeyRequired);
        Assert.Equal(ServerOptions.DefaultMaxRequestBytes, health.MaxRequestBytes);
    }

    [SkippableFact]
    public async Task Detect_returns_the_same_faces_as_the_library()
    {
        var path = Photos.TwoPeople;
        await using var s = await fixture.StartAsync();
        var r = await Json.OkAsync<DetectResponse>(await s.Client.PostAsync("/v1/detect", Form.Of(("image", path))));

        var expected = fixture.Recognizer.Detect(ImageLoader.Load(path));
        Assert.Equal(2, expected.Count);
        Assert.Equal(1126, r.Width);
        Assert.Equal(661, r.Height);
        Assert.Equal(expected.Count, r.Faces.Length);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Box.X1, r.Faces[i].Box.X1, 3);
            Assert.Equal(expected[i].Box.Y2, r.Faces[i].Box.Y2, 3);
            Assert.Equal(expected[i].Score, r.Faces[i].Score, 5);
            Assert.Equal(5, r.Faces[i].Landmarks.Length);
            Assert.Equal(expected[i].Landmarks[2].X, r.Faces[i].Landmarks[2][0], 3);
        }
    }

    [SkippableFact]
    public async Task Embed_returns_every_face_with_its_unit_vector()
    {
        var path = Photos.TwoPeople;
        await using var s = await fixture.StartAsync();
        var r = await Json.OkAsync<EmbedResponse>(await s.Client.PostAsync("/v1/embed", Form.Of(("image", path))));

        var expected = fixture.Recognizer.EmbedAll(ImageLoader.Load(path));
        Assert.Equal(fixture.Recognizer.Model.Name, r.Model);
        Assert.Equal(expected.Count, r.Faces.Length);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(fixture.Recognizer.Model.Dimensions, r.Faces[i].Vector.Length);
            Assert.Equal(1.0, Math.Sqrt(r.Faces[i].Vector.Sum(v => (double)v * v)), 4);
            Assert.True(fixture.Recognizer.Distance(expected[i].Vector, r.Faces[i].Vector) < 1e-5f);
            Assert.Equal(expected[i].Face.Box.X1, r.Faces[i].Box.X1, 3);
        }
    }

    [SkippableFact]
    public async Task Verify_says_same_for_two_photos_of_Anthony_Hopkins_and_different_for_Obama()
    {
        var hopkins1 = Photos.Hopkins1;
        var hopkins2 = Photos.Hopkins2;
        var obama = Photos.Obama;
        await using var s = await fixture.StartAsync();

        var same = await Json.OkAsync<VerifyResponse>(await s.Client.PostAsync("/v1/verify", Form.Of(("image1", hopkins1), ("image2", hopkins2))));
        Assert.True(same.Same, $"distance {same.Distance}");
        Assert.True(same.Distance < same.Threshold);
        Assert.Equal(fixture.Recognizer.Model.Threshold, same.Threshold);
        var a = fixture.Recognizer.EmbedLargestFace(ImageLoader.Load(hopkins1))!;
        var b = fixture.Recognizer.EmbedLargestFace(ImageLoader.Load(hopkins2))!;
        Assert.Equal(fixture.Recognizer.Distance(a.Vector, b.Vector), same.Distance, 5);
        Assert.Equal(a.Face.Box.X1, same.Image1.Box.X1, 3);
        Assert.Equal(b.Face.Box.Y2, same.Image2.Box.Y2, 3);
        Assert.Equal(1, same.Image1.FacesFound);

        var different = await Json.OkAsync<VerifyResponse>(await s.Client.PostAsync("/v1/verify", Form.Of(("image1", hopkins1), ("image2", obama))));
        Assert.False(different.Same, $"distance {different.Distance}");
        Assert.True(different.Distance >= different.Threshold);
    }

    [SkippableFact]
    public async Task Verify_without_a_face_is_422_naming_the_image()
    {
        var hopkins = Photos.Hopkins1;
        await using var s = await fixture.StartAsync();
        var form = Form.Of(("image1", hopkins));
        form.Add(Form.Bytes(BlankPng(), "image/png"), "image2", "blank.png");
        var problem = await Json.ProblemAsync(await s.Client.PostAsync("/v1/verify", form), HttpStatusCode.UnprocessableEntity);
        Assert.Contains("image2 (blank.png)", problem.Detail);
        Assert.Contains("No face", problem.Detail);
    }

    [SkippableFact]
    public async Task Gallery_enrol_list_identify_and_remove()
    {
        var obama1 = Photos.Obama;
        var obama2 = TestPaths.Shared("faces", "face_recognition-examples", "examples", "obama2.jpg");
        var obamaSmall = TestPaths.Shared("faces", "face_recognition-examples", "examples", "obama_small.jpg");
        var biden = Photos.Biden;
        await using var s = await fixture.StartAsync();

        var enrolled = await Json.OkAsync<EnrolResponse>(
            await s.Client.PostAsync("/v1/gallery/Barack%20Obama", Form.Of(("image", obama1), ("image", obama2))), HttpStatusCode.Created);
        Assert.Equal(new EnrolResponse("Barack Obama", 2, 2), enrolled);
        await Json.OkAsync<EnrolResponse>(await s.Client.PostAsync("/v1/gallery/Joe%20Biden", Form.Of(("image", biden))), HttpStatusCode.Created);

        var list = await Json.GetAsync<GalleryResponse>(s.Client, "/v1/gallery");
        Assert.Equal(["Barack Obama:2", "Joe Biden:1"], list!.People.Select(p => $"{p.Name}:{p.Faces}"));
        Assert.Equal(2, s.Gallery.List().Count);

        var who = await Json.OkAsync<IdentifyResponse>(await s.Client.PostAsync("/v1/identify", WithTop(Form.Of(("image", obamaSmall)), "2")));
        var face = Assert.Single(who.Faces);
        Assert.Equal("Barack Obama", face.Person);
        Assert.Equal(2, face.Matches.Length);
        Assert.Equal("Barack Obama", face.Matches[0].Name);
        Assert.True(face.Matches[0].Known);
        Assert.True(face.Matches[0].Distance < face.Matches[1].Distance);

        var removed = await s.Client.DeleteAsync("/v1/gallery/Joe%20Biden");
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        list = await Json.GetAsync<GalleryResponse>(s.Client, "/v1/gallery");
        Assert.Equal(["Barack Obama"], list!.People.Select(p => p.Name));
        var again = await Json.ProblemAsync(await s.Client.DeleteAsync("/v1/gallery/Joe%20Biden"), HttpStatusCode.NotFound);
        Assert.Contains("Joe Biden", again.Detail);

        // Only Obama is left: Biden's photo is nearest to him but not within the threshold.
        var stranger = await Json.OkAsync<IdentifyResponse>(await s.Client.PostAsync("/v1/identify", Form.Of(("image", biden))));
        var unknown = Assert.Single(stranger.Faces);
        Assert.Null(unknown.Person);
        Assert.False(Assert.Single(unknown.Matches).Known);
    }

    [SkippableFact]
    public async Task Enrolment_with_one_faceless_photo_stores_nothing()
    {
        var hopkins = Photos.Hopkins1;
        await using var s = await fixture.StartAsync();
        var form = Form.Of(("image", hopkins));
        form.Add(Form.Bytes(BlankPng(), "image/png"), "image", "blank.png");
        var problem = await Json.ProblemAsync(await s.Client.PostAsync("/v1/gallery/Hopkins", form), HttpStatusCode.UnprocessableEntity);
        Assert.Contains("blank.png", problem.Detail);
        Assert.Empty(s.Gallery.List());
    }

    [SkippableFact]
    public async Task Identify_on_an_empty_gallery_finds_the_faces_but_nobody()
    {
        var path = Photos.TwoPeople;
        await using var s = await fixture.StartAsync();
        var r = await Json.OkAsync<IdentifyResponse>(await s.Client.PostAsync("/v1/identify", Form.Of(("image", path))));
        Assert.Equal(2, r.Faces.Length);
        Assert.All(r.Faces, f => { Assert.Null(f.Person); Assert.Empty(f.Matches); });
    }

    [SkippableFact]
    public async Task OpenApi_document_lists_every_endpoint()
    {
        await using var s = await fixture.StartAsync();
        using var doc = System.Text.Json.JsonDocument.Parse(await s.Client.GetStringAsync("/openapi/v1.json"));
        var paths = doc.RootElement.GetProperty("paths");
        foreach (var p in new[] { "/health", "/v1/detect", "/v1/embed", "/v1/verify", "/v1/identify", "/v1/gallery", "/v1/gallery/{name}" })
            Assert.True(paths.TryGetProperty(p, out _), $"{p} is not in the OpenAPI document");
        var verify = paths.GetProperty("/v1/verify").GetProperty("post");
        Assert.True(verify.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        Assert.True(paths.GetProperty("/v1/gallery/{name}").TryGetProperty("delete", out _));
    }

    [SkippableFact]
    public async Task The_web_page_and_its_files_are_served()
    {
        await using var s = await fixture.StartAsync();
        var html = await s.Client.GetAsync("/");
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script src=\"app.js\">", await html.Content.ReadAsStringAsync());
        Assert.Contains("/v1/verify", await s.Client.GetStringAsync("/app.js"));
        Assert.Equal("text/css", (await s.Client.GetAsync("/app.css")).Content.Headers.ContentType?.MediaType);
    }

    internal static MultipartFormDataContent WithTop(MultipartFormDataContent form, string top)
    {
        form.Add(new StringContent(top), "top");
        return form;
    }

    /// <summary>A 200x200 mid-grey PNG: a valid image with no face.</summary>
    internal static byte[] BlankPng()
    {
        var pixels = new byte[200 * 200 * 3];
        Array.Fill(pixels, (byte)128);
        return ImageWriter.Encode(new RgbImage(200, 200, pixels), ImageFileFormat.Png);
    }
}
