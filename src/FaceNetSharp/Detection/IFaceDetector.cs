using FaceNetSharp.Imaging;

namespace FaceNetSharp.Detection;

/// <summary>A face detector that also finds the five landmarks used for alignment.</summary>
public interface IFaceDetector
{
    /// <summary>All faces in <paramref name="image"/>, highest score first. No face is an empty list, not an error.</summary>
    IReadOnlyList<DetectedFace> Detect(RgbImage image);
}
