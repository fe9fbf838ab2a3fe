using System.Numerics;

namespace FaceNetSharp.Alignment;

/// <summary>A 5-point face template that <see cref="AlignmentMode.Similarity"/> maps landmarks onto.</summary>
public enum AlignmentTemplate
{
    /// <summary>insightface's ArcFace template for 112x112 chips (MobileFaceNet, ArcFace models).</summary>
    ArcFace112,

    /// <summary>dlib's 5-point template for 150x150 chips (dlib ResNet face descriptor, face-api.js).</summary>
    Dlib150,
}

/// <summary>The landmark positions of each <see cref="AlignmentTemplate"/>.</summary>
public static class AlignmentTemplates
{
    // insightface, python-package/insightface/utils/face_align.py (`arcface_dst`), for a 112x112 chip; also in
    // ../shared/docs/MODELS.md ("MobileFaceNet-192").
    private static readonly Vector2[] ArcFace112Points =
    [
        new(38.2946f, 51.6963f), new(73.5318f, 51.5014f), new(56.0252f, 71.7366f),
        new(41.5493f, 92.3655f), new(70.7299f, 92.2041f),
    ];

    // dlib's 5-point layout for a 150x150 chip (dlib's mean face shape with padding 0.25, as dlib's
    // get_face_chip_details uses it), as listed in ../shared/docs/MODELS.md ("dlib ResNet-128"); confirmed against the
    // golden chips ../shared/data/golden/*_dlib150.png by AlignmentGoldenTests.
    private static readonly Vector2[] Dlib150Points =
    [
        new(47.5f, 46.6f), new(100.5f, 46.6f), new(74f, 76.6f),
        new(50.4f, 103f), new(97.6f, 103f),
    ];

    /// <summary>The chip size, in pixels (square), for which <see cref="Points(AlignmentTemplate)"/> are given: 112 or 150.</summary>
    public static int NativeSize(AlignmentTemplate template) => template switch
    {
        AlignmentTemplate.ArcFace112 => 112,
        AlignmentTemplate.Dlib150 => 150,
        _ => throw new ArgumentOutOfRangeException(nameof(template), template, null),
    };

    /// <summary>
    /// The five template points, in chip pixels (x right, y down, pixel centres at integers) of a chip of
    /// <see cref="NativeSize"/>, in the order left eye, right eye, nose, left mouth corner, right mouth corner
    /// ("left" as seen in the image). Returns a new array each call.
    /// </summary>
    public static Vector2[] Points(AlignmentTemplate template) => template switch
    {
        AlignmentTemplate.ArcFace112 => (Vector2[])ArcFace112Points.Clone(),
        AlignmentTemplate.Dlib150 => (Vector2[])Dlib150Points.Clone(),
        _ => throw new ArgumentOutOfRangeException(nameof(template), template, null),
    };

    /// <summary>The template points for a square chip of <paramref name="size"/> pixels: scaled by size / native size.</summary>
    public static Vector2[] Points(AlignmentTemplate template, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var points = Points(template);
        float k = (float)size / NativeSize(template);
        for (int i = 0; i < points.Length; i++) points[i] *= k;
        return points;
    }
}
