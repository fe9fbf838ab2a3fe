using System.Globalization;
using FaceNetSharp.Detection;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Recognition;
using Microsoft.AspNetCore.Mvc;

namespace FaceNetSharp.AspNetCore;

/// <summary>
/// What the endpoints share: the recognizer, the gallery, the gate and the limits (one per application, a singleton
/// of <see cref="FaceNetServiceCollectionExtensions.AddFaceNet"/>).
/// </summary>
internal sealed class FaceService
{
    public FaceService(FaceRecognizer recognizer, IFaceGallery gallery, InferenceGate gate, FaceNetOptions options)
    {
        if (gallery.ModelId != recognizer.Model.Name || gallery.Dimensions != recognizer.Model.Dimensions)
            throw new EmbeddingModelMismatchException(gallery.Location, gallery.ModelId, gallery.Dimensions,
                recognizer.Model.Name, recognizer.Model.Dimensions);
        Recognizer = recognizer;
        Gallery = gallery;
        Gate = gate;
        Options = options;
        ImageOptions = new() { MaxPixels = options.MaxPixels };
    }

    public FaceRecognizer Recognizer { get; }
    public IFaceGallery Gallery { get; }
    public InferenceGate Gate { get; }
    public FaceNetOptions Options { get; }
    public ImageLoadOptions ImageOptions { get; }

    public string MetricName => EmbeddingMetrics.Name(Recognizer.Model.Metric);

    /// <summary>
    /// Runs <paramref name="work"/> (which decodes <paramref name="images"/>) in the gate, admitted by the pixels it
    /// holds decoded at once: all the images when <paramref name="together"/> (verify keeps both), else the largest
    /// (enrol decodes one after another). An image over --max-pixels, or a request that could never fit the pixel
    /// budget, is refused (413) here, before it waits or decodes anything.
    /// </summary>
    public Task<T> RunAsync<T>(IReadOnlyList<Upload> images, bool together, Func<T> work, CancellationToken cancel)
    {
        foreach (var image in images)
            if (image.HeaderSize is not null && image.Pixels > Options.MaxPixels)
                throw new ImageLoadException(image.Label, ImageLoadFailure.TooLarge,
                    $"the header declares {image.Size}, more than the server's limit of {Options.MaxPixels:N0} (--max-pixels); nothing was decoded");
        long pixels = together ? images.Sum(i => i.Pixels) : images.Max(i => i.Pixels);
        if (pixels > Gate.PixelBudget)
        {
            var largest = images.MaxBy(i => i.Pixels)!;
            string what = images.Count == 1 || !together
                ? $"{largest.Label} is {largest.Size}"
                : $"the {images.Count} images take {pixels:N0} pixels together";
            throw new ApiProblemException(StatusCodes.Status413PayloadTooLarge, "Image too large",
                $"{what}, more than this server's budget of {Gate.PixelBudget:N0} pixels in flight (--max-pixels-in-flight), " +
                "so it could never be admitted; nothing was decoded. Send a smaller image.");
        }
        return Gate.RunAsync(pixels, work, cancel);
    }
}

/// <summary>The JSON endpoints under <c>/v1</c>. Each reads its form, then decodes and runs the models inside the gate.</summary>
internal static class FaceApi
{
    private const string Multipart = "multipart/form-data";

    public static void Map(RouteGroupBuilder v1)
    {
        // Uploads are read from the request by the handlers (not bound from the form), so antiforgery has nothing to
        // check; failures a caller can fix become problem details here, whatever middleware the application has.
        v1.DisableAntiforgery().AddEndpointFilter(ApiProblems.FilterAsync);
        v1.MapPost("/detect", DetectAsync)
            .WithName("Detect").WithSummary("Faces of an image (MTCNN): boxes, scores, landmarks")
            .Accepts<ImageForm>(Multipart).Produces<DetectResponse>().WithImageProblems();
        v1.MapPost("/embed", EmbedAsync)
            .WithName("Embed").WithSummary("Every face of an image with its box and unit-length embedding")
            .Accepts<ImageForm>(Multipart).Produces<EmbedResponse>().WithImageProblems();
        v1.MapPost("/verify", VerifyAsync)
            .WithName("Verify").WithSummary("Same person? The distance between the largest face of image1 and of image2")
            .Accepts<VerifyForm>(Multipart).Produces<VerifyResponse>().WithImageProblems()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        v1.MapPost("/identify", IdentifyAsync)
            .WithName("Identify").WithSummary("Every face of an image with the nearest enrolled people")
            .Accepts<IdentifyForm>(Multipart).Produces<IdentifyResponse>().WithImageProblems();
        v1.MapGet("/gallery", ListGallery)
            .WithName("ListGallery").WithSummary("The enrolled people and their face counts").Produces<GalleryResponse>();
        v1.MapPost("/gallery/{name}", EnrolAsync)
            .WithName("Enrol").WithSummary("Adds the largest face of each uploaded image (field 'image', one or more) to a person; all or nothing")
            .Accepts<EnrolForm>(Multipart).Produces<EnrolResponse>(StatusCodes.Status201Created).WithImageProblems()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        v1.MapDelete("/gallery/{name}", Remove)
            .WithName("RemovePerson").WithSummary("Removes a person and all their faces")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static RouteHandlerBuilder WithImageProblems(this RouteHandlerBuilder b) => b
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    private static async Task<IResult> DetectAsync(HttpRequest request, FaceService svc, CancellationToken cancel)
    {
        var form = await Uploads.ReadFormAsync(request, cancel);
        var upload = await Uploads.OneAsync(form, "image", cancel);
        return Results.Ok(await svc.RunAsync([upload], together: true, () =>
        {
            var image = upload.Decode(svc.ImageOptions);
            var faces = svc.Recognizer.Detect(image);
            return new DetectResponse(image.Width, image.Height, faces.Select(FaceDto.From).ToArray());
        }, cancel));
    }

    private static async Task<IResult> EmbedAsync(HttpRequest request, FaceService svc, CancellationToken cancel)
    {
        var form = await Uploads.ReadFormAsync(request, cancel);
        var upload = await Uploads.OneAsync(form, "image", cancel);
        return Results.Ok(await svc.RunAsync([upload], together: true, () =>
        {
            var image = upload.Decode(svc.ImageOptions);
            var faces = svc.Recognizer.EmbedAll(image);
            var model = svc.Recognizer.Model;
            return new EmbedResponse(image.Width, image.Height, model.Name, model.Dimensions,
                faces.Select(f => new EmbeddedFaceDto(BoxDto.From(f.Face.Box), f.Face.Score, f.Vector)).ToArray());
        }, cancel));
    }

    private static async Task<IResult> VerifyAsync(HttpRequest request, FaceService svc, CancellationToken cancel)
    {
        var form = await Uploads.ReadFormAsync(request, cancel);
        var first = await Uploads.OneAsync(form, "image1", cancel);
        var second = await Uploads.OneAsync(form, "image2", cancel);
        return Results.Ok(await svc.RunAsync([first, second], together: true, () =>
        {
            var (a, imageA, countA) = LargestFace(svc, first, "image1");
            var (b, imageB, countB) = LargestFace(svc, second, "image2");
            var model = svc.Recognizer.Model;
            float distance = svc.Recognizer.Distance(a.Vector, b.Vector);
            return new VerifyResponse(distance, model.Threshold, distance < model.Threshold, svc.MetricName, model.Name,
                new VerifiedImageDto(imageA.Width, imageA.Height, BoxDto.From(a.Face.Box), countA),
                new VerifiedImageDto(imageB.Width, imageB.Height, BoxDto.From(b.Face.Box), countB));
        }, cancel));
    }

    /// <summary>The largest face's embedding (422 when there is none) and how many faces the image has.</summary>
    private static (FaceEmbedding Face, RgbImage Image, int Count) LargestFace(FaceService svc, Upload upload, string field)
    {
        var image = upload.Decode(svc.ImageOptions);
        var face = svc.Recognizer.EmbedLargestFace(image, out int count) ?? throw ApiProblemException.NoFace(upload.Label);
        return (face, image, count);
    }

    private static async Task<IResult> IdentifyAsync(HttpRequest request, FaceService svc, CancellationToken cancel)
    {
        var form = await Uploads.ReadFormAsync(request, cancel);
        int top = ParseTop(form["top"].FirstOrDefault() ?? request.Query["top"].FirstOrDefault());
        double fpir = ParseFpir(form["fpir"].FirstOrDefault() ?? request.Query["fpir"].FirstOrDefault(), svc.Options.IdentifyFpir);
        var upload = await Uploads.OneAsync(form, "image", cancel);
        var (image, faces) = await svc.RunAsync([upload], together: true, () =>
        {
            var decoded = upload.Decode(svc.ImageOptions);
            return (decoded, svc.Recognizer.EmbedAll(decoded));
        }, cancel);
        // 1:N: the threshold for the server's FPIR (or the request's 'fpir') at the gallery's size, not the 1:1 one.
        // (a cluster gallery answers these without holding a request thread while its shards work)
        var choice = IdentificationThreshold.Choose(svc.Recognizer.Model,
            IdentificationThreshold.Comparisons(await svc.Gallery.PeopleCountAsync(cancel)), fpir: fpir);
        float threshold = choice.Threshold;
        var result = new IdentifiedFaceDto[faces.Count];
        for (int i = 0; i < faces.Count; i++)
        {
            var f = faces[i];
            var matches = (await svc.Gallery.IdentifyAsync(f.Vector, top, threshold, cancel)).Select(MatchDto.From).ToArray();
            string? person = matches.Length > 0 && matches[0].Known ? matches[0].Name : null;
            result[i] = new IdentifiedFaceDto(BoxDto.From(f.Face.Box), f.Face.Score, person, matches);
        }
        return Results.Ok(new IdentifyResponse(image.Width, image.Height, threshold, svc.MetricName, result)
        {
            Fpir = choice.Fpir,
            OperatingPoint = choice.Describe(),
        });
    }

    private static double ParseFpir(string? text, double fallback)
    {
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double fpir) || fpir is not (> 0 and < 1))
            throw ApiProblemException.BadRequest($"'fpir' must be a number between 0 and 1 (exclusive), e.g. 0.01; got '{text}'.");
        return fpir;
    }

    private static int ParseTop(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return 3;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int top) || top < 1 || top > FaceNetOptions.MaxTop)
        {
            // Echo a short excerpt only: the field may be megabytes long.
            string got = text.Length <= 20 ? $"'{text}'" : $"'{text[..20]}…' ({text.Length:N0} characters)";
            throw ApiProblemException.BadRequest($"'top' must be a whole number from 1 to {FaceNetOptions.MaxTop}; got {got}.");
        }
        return top;
    }

    private static async Task<IResult> ListGallery(FaceService svc, CancellationToken cancel) =>
        Results.Ok(new GalleryResponse(svc.Gallery.ModelId, svc.Gallery.Dimensions,
            (await svc.Gallery.ListAsync(cancel)).Select(p => new PersonDto(p.Name, p.FaceCount)).ToArray()));

    private static async Task<IResult> EnrolAsync(string name, HttpRequest request, FaceService svc, CancellationToken cancel)
    {
        name = CheckName(name);
        var form = await Uploads.ReadFormAsync(request, cancel);
        var uploads = await Uploads.AllAsync(form, "image", cancel);
        // Every image must give a face before anything is stored: one bad photo refuses the whole enrolment.
        var vectors = await svc.RunAsync(uploads, together: false, () =>
            uploads.Select(u => (LargestFace(svc, u, u.Label).Face.Vector, (string?)u.Label)).ToList(), cancel);
        int added = await svc.Gallery.AddFacesAsync(name, vectors, cancel);
        int total = await svc.Gallery.FaceCountOfAsync(name, cancel);   // one person's count, not the whole gallery's listing
        return Results.Created($"/v1/gallery/{Uri.EscapeDataString(name)}", new EnrolResponse(name, added, total));
    }

    private static async Task<IResult> Remove(string name, FaceService svc, CancellationToken cancel)
    {
        name = CheckName(name);
        return await svc.Gallery.RemoveAsync(name, cancel)
            ? Results.NoContent()
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such person",
                detail: $"'{name}' is not in the gallery.");
    }

    private static string CheckName(string name)
    {
        name = name.Trim();
        if (name.Length == 0 || name.Length > 200 || name.Any(char.IsControl))
            throw ApiProblemException.BadRequest("A person's name must be 1 to 200 characters without control characters.");
        return name;
    }

    // Shapes of the multipart forms, for the OpenAPI document only (the handlers read the form themselves, so that
    // a missing field or a wrong content type gets a message saying so).

    /// <summary>multipart/form-data: <c>image</c>, one image file.</summary>
    internal sealed record ImageForm([property: FromForm(Name = "image")] IFormFile Image);

    /// <summary>multipart/form-data: <c>image1</c> and <c>image2</c>, one image file each.</summary>
    internal sealed record VerifyForm(
        [property: FromForm(Name = "image1")] IFormFile Image1,
        [property: FromForm(Name = "image2")] IFormFile Image2);

    /// <summary>
    /// multipart/form-data: <c>image</c>; <c>top</c>, how many people per face (1 to 100, default 3); <c>fpir</c>, the
    /// false-positive identification rate the threshold is chosen for at the gallery's size (default: the server's, 0.01).
    /// </summary>
    internal sealed record IdentifyForm(
        [property: FromForm(Name = "image")] IFormFile Image,
        [property: FromForm(Name = "top")] int? Top,
        [property: FromForm(Name = "fpir")] double? Fpir);

    /// <summary>multipart/form-data: <c>image</c>, one or more image files of the person.</summary>
    internal sealed record EnrolForm([property: FromForm(Name = "image")] IFormFileCollection Image);
}
