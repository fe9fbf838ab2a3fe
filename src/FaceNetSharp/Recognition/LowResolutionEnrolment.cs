using System.Globalization;
using System.Numerics;
using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Recognition;

/// <summary>
/// Resolution-matched enrolment (opt-in: <c>facenet gallery add ... --low-res 24,48</c>): besides a photo's face, the
/// gallery also stores the vectors of that face as a camera far away would see it, so that small faces in video
/// (a 24 px face: eyes 11-13 px apart) are compared with a gallery face of their own resolution.
/// </summary>
/// <remarks>
/// <para>
/// How a face is made small: the whole photo is shrunk by pixel-area averaging until the face's detected box is
/// <c>N</c> pixels wide, the detection (box and landmarks) is scaled with it, and the face is aligned from the small
/// image onto the embedder's template, which enlarges it back to the chip size as the aligner enlarges a small face of
/// a video frame. The same method as TrackNamingMeasurements (tests/FaceNetSharp.Tests/Video/Tracking), which measured
/// its effect on short_hamilton_clip.mp4 (Alex Lacamoire, 24 px at the piano): with the dlib model his track's mean
/// went from 0.378 from his photo (threshold 0.356 at FPIR 1%, 2 people) to 0.313 from his photo shrunk to 24 px, while
/// every other track stayed at 0.42 or more from it; with MobileFaceNet from 0.649 to 0.571 (threshold 0.477: still
/// not named).
/// </para>
/// <para>
/// The trade-off: a shrunk face carries less of what tells people apart, so low-resolution probes (and blurred ones)
/// may come closer to it than to the full-size face of someone else; the FPIR operating points of
/// <see cref="IdentificationThreshold"/> were measured on full-size photos, not on such vectors.
/// </para>
/// </remarks>
public static class LowResolutionEnrolment
{
    /// <summary>The smallest face width accepted, in pixels: MTCNN's smallest face is 12 px (its P-Net window).</summary>
    public const int MinFaceWidth = 12;

    /// <summary>
    /// The source stored with a shrunk face's vector: the photo's source with <c>@Npx</c> appended (e.g.
    /// <c>/photos/alex.png@24px</c>), so that listings and exports tell it from the photo's own vector.
    /// </summary>
    public static string Source(string? source, int faceWidth) =>
        string.Create(CultureInfo.InvariantCulture, $"{source}@{faceWidth}px");

    /// <summary>
    /// Parses a list of face widths such as <c>24,48</c>: integers of at least <see cref="MinFaceWidth"/>, distinct,
    /// returned in ascending order.
    /// </summary>
    /// <exception cref="ArgumentException">The text is not such a list (the message says why).</exception>
    public static IReadOnlyList<int> ParseWidths(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var widths = new SortedSet<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int w) || w < MinFaceWidth)
                throw new ArgumentException($"'{part}' in '{text}' is not a face width in pixels of at least {MinFaceWidth} (e.g. 24,48)");
            widths.Add(w);
        }
        return [.. widths];
    }

    /// <summary>
    /// The embeddings of <paramref name="face"/> of <paramref name="image"/> shrunk until its box is each of
    /// <paramref name="faceWidths"/> pixels wide (see the remarks of <see cref="LowResolutionEnrolment"/>). Widths not
    /// smaller than the face's own box are skipped: the photo's vector already stands for that size.
    /// </summary>
    /// <returns>(width, unit vector) for each width used, in the order given.</returns>
    public static IReadOnlyList<(int FaceWidth, float[] Vector)> Embed(FaceRecognizer recognizer, RgbImage image,
        DetectedFace face, IReadOnlyList<int> faceWidths)
    {
        ArgumentNullException.ThrowIfNull(recognizer);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(face);
        ArgumentNullException.ThrowIfNull(faceWidths);
        var used = new List<int>();
        var chips = new List<RgbImage>();
        foreach (int px in faceWidths)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(px, MinFaceWidth, nameof(faceWidths));
            if (px >= face.Box.Width) continue;
            float k = px / face.Box.Width;
            int w = Math.Max(1, (int)Math.Round(image.Width * k)), h = Math.Max(1, (int)Math.Round(image.Height * k));
            var small = ImageResize.Resize(image, new PixelRect(0, 0, image.Width, image.Height), w, h, ResizeKernel.Area);
            float kx = (float)w / image.Width, ky = (float)h / image.Height;
            var scaled = new DetectedFace(new FaceBox(face.Box.X1 * kx, face.Box.Y1 * ky, face.Box.X2 * kx, face.Box.Y2 * ky),
                face.Score, face.Landmarks.Select(l => new Vector2(l.X * kx, l.Y * ky)).ToArray());
            chips.Add(recognizer.Align(small, scaled));
            used.Add(px);
        }
        if (chips.Count == 0) return [];
        var vectors = recognizer.EmbedAligned(chips);
        return used.Select((px, i) => (px, vectors[i])).ToList();
    }
}
