using FaceNetSharp.Imaging;

namespace FaceNetSharp.Embedding;

/// <summary>Maps aligned face chips to L2-normalised vectors: same person, small distance.</summary>
public interface IFaceEmbedder
{
    /// <summary>What the model expects and how its vectors are compared.</summary>
    EmbedderInfo Info { get; }

    /// <summary>
    /// Embeds aligned chips (each <see cref="EmbedderInfo.InputSize"/> square, aligned as <see cref="EmbedderInfo.Template"/>
    /// says). Returns one unit-length vector per chip, in order. Thread-safe.
    /// </summary>
    float[][] Embed(IReadOnlyList<RgbImage> alignedFaces);
}
