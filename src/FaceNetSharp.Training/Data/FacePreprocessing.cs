using FaceNetSharp.Imaging;
using FaceNetSharp.Training.Export;

namespace FaceNetSharp.Training.Data;

/// <summary>facenet's training-time augmentation switches (<c>--random_crop</c>, <c>--random_flip</c>, <c>--random_rotate</c>).</summary>
public sealed record Augmentation(bool RandomCrop = false, bool RandomFlip = false, bool RandomRotate = false)
{
    /// <summary>No augmentation (validation, export parity).</summary>
    public static Augmentation None { get; } = new();

    /// <summary>facenet <c>random_rotate_image</c>: an angle drawn uniformly from [-10, 10] degrees.</summary>
    public const double MaxRotationDegrees = 10;
}

/// <summary>
/// Turns an aligned face image into the network input: planar float RGB [3, S, S], as facenet's input pipeline
/// (<c>facenet.create_input_pipeline</c>) does it.
/// </summary>
/// <remarks>
/// Order as in facenet: crop (random with <see cref="Augmentation.RandomCrop"/>, else central, tf's
/// <c>resize_image_with_crop_or_pad</c>), rotation, flip, standardisation. One departure: an image smaller than S
/// on either side is resized to S x S (PIL bilinear kernel) instead of being padded with black, so that e.g.
/// 112x112 chips can train a 160x160 network. Rotation is bilinear about the centre with black outside (facenet's
/// scipy <c>imrotate</c> is bicubic). Thread-safe (no state; the caller's <see cref="Random"/> is not shared).
/// </remarks>
public static class FacePreprocessing
{
    /// <summary>Fills <paramref name="destination"/> (3*S*S floats) from <paramref name="image"/>.</summary>
    public static void Fill(RgbImage image, int size, ImageStandardization standardization, Augmentation augmentation, Random random,
        Span<float> destination)
    {
        int n = 3 * size * size;
        if (destination.Length < n) throw new ArgumentException($"destination holds {destination.Length} floats, needs {n}");
        var dst = destination[..n];
        PixelRect region;
        if (image.Width < size || image.Height < size) region = PixelRect.Of(image);
        else if (augmentation.RandomCrop)
            region = new PixelRect(random.Next(image.Width - size + 1), random.Next(image.Height - size + 1), size, size);
        else region = new PixelRect((image.Width - size) / 2, (image.Height - size) / 2, size, size);
        var kernel = region.Width == size && region.Height == size ? ResizeKernel.Area : ResizeKernel.Triangle;
        ImageResize.ResizeToChw(image, region, size, size, 0f, 1f, dst, kernel); // 0..255 values
        if (augmentation.RandomRotate)
            Rotate(dst, size, (random.NextDouble() * 2 - 1) * Augmentation.MaxRotationDegrees);
        if (augmentation.RandomFlip && random.Next(2) == 1) Mirror(dst, size);
        Standardize(dst, standardization);
    }

    /// <summary>Applies the standardisation to 0..255 values in place.</summary>
    public static void Standardize(Span<float> values, ImageStandardization standardization)
    {
        if (standardization == ImageStandardization.Fixed)
        {
            // facenet fixed_image_standardization: (x - 127.5) / 128
            for (int i = 0; i < values.Length; i++)
                values[i] = (float)((values[i] - OnnxEmbeddingExporter.InputMean) * OnnxEmbeddingExporter.InputScale);
            return;
        }
        // facenet prewhiten: (x - mean) / max(std, 1/sqrt(x.size)), population std
        double sum = 0, sq = 0;
        foreach (var v in values) sum += v;
        double mean = sum / values.Length;
        foreach (var v in values) sq += (v - mean) * (v - mean);
        double std = Math.Max(Math.Sqrt(sq / values.Length), 1.0 / Math.Sqrt(values.Length));
        for (int i = 0; i < values.Length; i++) values[i] = (float)((values[i] - mean) / std);
    }

    /// <summary>Horizontal mirror of a [3, S, S] planar image.</summary>
    public static void Mirror(Span<float> chw, int size)
    {
        for (int row = 0; row < 3 * size; row++)
            chw.Slice(row * size, size).Reverse();
    }

    /// <summary>Rotates a [3, S, S] planar image by <paramref name="degrees"/> (counter-clockwise) about its centre, bilinear, black outside.</summary>
    public static void Rotate(Span<float> chw, int size, double degrees)
    {
        var src = chw.ToArray();
        double a = degrees * Math.PI / 180, cos = Math.Cos(a), sin = Math.Sin(a), c = (size - 1) / 2.0;
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                // inverse map: the source point that lands on (x, y)
                double dx = x - c, dy = y - c;
                double sx = cos * dx - sin * dy + c, sy = sin * dx + cos * dy + c;
                int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                double fx = sx - x0, fy = sy - y0;
                for (int ch = 0; ch < 3; ch++)
                {
                    double v = 0;
                    int plane = ch * size * size;
                    for (int j = 0; j < 2; j++)
                        for (int i = 0; i < 2; i++)
                        {
                            int xx = x0 + i, yy = y0 + j;
                            if (xx < 0 || yy < 0 || xx >= size || yy >= size) continue;
                            v += src[plane + yy * size + xx] * (i == 0 ? 1 - fx : fx) * (j == 0 ? 1 - fy : fy);
                        }
                    chw[plane + y * size + x] = (float)v;
                }
            }
        }
    }
}
