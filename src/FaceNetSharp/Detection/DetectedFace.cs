using System.Numerics;

namespace FaceNetSharp.Detection;

/// <summary>
/// An axis-aligned face box in original image pixels: (X1, Y1) top-left, (X2, Y2) bottom-right, as MTCNN reports it
/// (facenet's convention: coordinates may fall slightly outside the image).
/// </summary>
public readonly record struct FaceBox(float X1, float Y1, float X2, float Y2)
{
    /// <summary>X2 - X1, in pixels (negative for an empty box).</summary>
    public float Width => X2 - X1;

    /// <summary>Y2 - Y1, in pixels (negative for an empty box).</summary>
    public float Height => Y2 - Y1;

    /// <summary>Width times height, 0 for an empty box.</summary>
    public float Area => Math.Max(0, Width) * Math.Max(0, Height);
}

/// <summary>
/// One detected face: box, detector confidence in [0, 1], and five landmarks in image pixels in the order
/// left eye, right eye, nose, left mouth corner, right mouth corner ("left" as seen in the image).
/// </summary>
public sealed record DetectedFace(FaceBox Box, float Score, Vector2[] Landmarks);
