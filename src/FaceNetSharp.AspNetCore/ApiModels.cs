using FaceNetSharp.Detection;
using FaceNetSharp.Recognition;

namespace FaceNetSharp.AspNetCore;

// The JSON shapes of the API (camelCase on the wire). Coordinates are pixels of the decoded, upright image
// (EXIF orientation applied), as MTCNN reports them: they may fall slightly outside the image.

/// <summary>A face box: (x1, y1) top-left, (x2, y2) bottom-right, in image pixels.</summary>
public sealed record BoxDto(float X1, float Y1, float X2, float Y2)
{
    internal static BoxDto From(FaceBox b) => new(b.X1, b.Y1, b.X2, b.Y2);
}

/// <summary>One detected face: box, detector score in [0, 1], five landmarks [x, y] (eyes, nose, mouth corners).</summary>
public sealed record FaceDto(BoxDto Box, float Score, float[][] Landmarks)
{
    internal static FaceDto From(DetectedFace f) =>
        new(BoxDto.From(f.Box), f.Score, f.Landmarks.Select(p => new[] { p.X, p.Y }).ToArray());
}

/// <summary>The answer of <c>POST /v1/detect</c>: the decoded image's size and its faces, highest score first.</summary>
public sealed record DetectResponse(int Width, int Height, FaceDto[] Faces);

/// <summary>A face with its unit-length embedding.</summary>
public sealed record EmbeddedFaceDto(BoxDto Box, float Score, float[] Vector);

/// <summary>The answer of <c>POST /v1/embed</c>: every face of the image with its vector (empty when none).</summary>
public sealed record EmbedResponse(int Width, int Height, string Model, int Dimensions, EmbeddedFaceDto[] Faces);

/// <summary>The face of one image that <c>/v1/verify</c> compared (the largest), and how many faces the image had.</summary>
public sealed record VerifiedImageDto(int Width, int Height, BoxDto Box, int FacesFound);

/// <summary>
/// The answer of <c>POST /v1/verify</c>: the model's distance between the largest face of each image, the model's
/// threshold, and <c>same</c> = distance &lt; threshold.
/// </summary>
public sealed record VerifyResponse(float Distance, float Threshold, bool Same, string Metric, string Model,
    VerifiedImageDto Image1, VerifiedImageDto Image2);

/// <summary>The answer of <c>POST /v1/gallery/{name}</c>: faces added now and the person's total.</summary>
public sealed record EnrolResponse(string Name, int Added, int FaceCount);

/// <summary>One candidate person for a face: distance to their closest enrolled face; known = below the threshold.</summary>
public sealed record MatchDto(string Name, float Distance, bool Known)
{
    internal static MatchDto From(GalleryMatch m) => new(m.Person, m.Distance, m.IsKnown);
}

/// <summary>One face of the query image: its box, the nearest people (nearest first), and the person when known.</summary>
public sealed record IdentifiedFaceDto(BoxDto Box, float Score, string? Person, MatchDto[] Matches);

/// <summary>
/// The answer of <c>POST /v1/identify</c>: every face of the image with its matches, the threshold used, the
/// false-positive identification rate it was chosen for, and in words which operating point that is
/// (e.g. "threshold 0.470 for FPIR 1% at 120 faces ...").
/// </summary>
public sealed record IdentifyResponse(int Width, int Height, float Threshold, string Metric, IdentifiedFaceDto[] Faces)
{
    /// <summary>The false-positive identification rate the threshold targets (null when the model has no operating points).</summary>
    public double? Fpir { get; init; }

    /// <summary>Which operating point the threshold is, in words.</summary>
    public string OperatingPoint { get; init; } = "";
}

/// <summary>A person of the gallery and how many faces they have.</summary>
public sealed record PersonDto(string Name, int Faces);

/// <summary>The answer of <c>GET /v1/gallery</c>.</summary>
public sealed record GalleryResponse(string Model, int Dimensions, PersonDto[] People);

/// <summary>The answer of <c>GET /health</c>.</summary>
public sealed record HealthResponse(string Status, string Model, int Dimensions, string Metric, float Threshold,
    int MaxConcurrency, long MaxRequestBytes, long MaxPixels, long MaxPixelsInFlight, bool ApiKeyRequired);
