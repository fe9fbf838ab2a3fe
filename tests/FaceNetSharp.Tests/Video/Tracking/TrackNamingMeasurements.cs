using System.Globalization;
using System.Text;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Recognition;
using FaceNetSharp.Tests.Models;
using FaceNetSharp.Video.Tracking;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video.Tracking;

/// <summary>
/// Measurements behind how a track's embeddings are made and combined (read the output): every detection of every
/// track on short_hamilton_clip.mp4, with its size, score, frontality and its distance to both enrolled people, plain
/// and with the mirror image's embedding added, and against the enrolment photos shrunk to the video's face sizes; then
/// each way of combining them; and the distances between tracks (for grouping strangers), here and on the crowd clip.
/// The README's video section quotes them. Asserts only that Lin-Manuel Miranda's track is within the threshold.
/// Measurements, not checks (2-3 minutes on 2 cores): they run with FACENETSHARP_MEASURE=1 and skip otherwise, e.g.
/// <c>FACENETSHARP_MEASURE=1 dotnet test tests/FaceNetSharp.Tests -c Release --filter "FullyQualifiedName~TrackNamingMeasurements" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class TrackNamingMeasurements(InstalledModelsFixture models, ITestOutputHelper output)
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private static readonly string[] People = ["lin-manuel-miranda", "alex-lacamoire"];

    private static float[] Normalised(IEnumerable<(float[] v, double w)> vs)
    {
        double[]? sum = null;
        foreach (var (v, w) in vs)
        {
            sum ??= new double[v.Length];
            for (int i = 0; i < v.Length; i++) sum[i] += w * v[i];
        }
        var total = sum!;
        double n = Math.Sqrt(total.Sum(x => x * x));
        if (n == 0) return Enumerable.Repeat(float.NaN, total.Length).ToArray();
        return total.Select(x => (float)(x / n)).ToArray();
    }

    [SkippableTheory]
    [InlineData("mobilefacenet")]
    [InlineData("dlib")]
    public void Measure_per_detection_distances(string modelName)
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("FACENETSHARP_MEASURE") == "1", "a measurement: set FACENETSHARP_MEASURE=1 to run it");
        VideoClips.RequireFfmpeg();
        var store = models.Require();
        var clip = ClipFaces.Load(VideoClips.Hamilton(), store, modelName);
        using var plain = FaceRecognizer.Open(modelName, store.Directory);
        using var flip = FaceRecognizer.Open(modelName, store.Directory, null, new EmbedderOptions { FlipAugmentation = true });
        var model = plain.Model;
        var threshold = IdentificationThreshold.Choose(model, IdentificationThreshold.Comparisons(2)).Threshold;
        float D(float[] a, float[] b) => float.IsNaN(a[0]) || float.IsNaN(b[0]) ? float.NaN : EmbeddingDistance.Compute(a, b, model.Metric);

        // the gallery: each photo's embedding, plain (G0) and with its mirror image (G1)
        var g0 = new Dictionary<string, float[]>();
        var g1 = new Dictionary<string, float[]>();
        var lowres = new Dictionary<(string, int), float[]>();
        foreach (var p in People)
        {
            var image = ImageLoader.Load(VideoClips.HamiltonFace(p));
            var face = plain.Detect(image).OrderByDescending(f => f.Box.Area).First();
            var chip = plain.Align(image, face);
            g0[p] = plain.EmbedAligned([chip])[0];
            g1[p] = flip.EmbedAligned([chip])[0];
            output.WriteLine(string.Create(C, $"{p}: box {face.Box.Width:F0} px; plain-vs-mirrored-added {D(g0[p], g1[p]):F3}"));
            foreach (int px in new[] { 24, 40 })
            {
                // the photo shrunk (pixel-area averaging) until the face's box is px wide, aligned from there
                float k = px / face.Box.Width;
                int w = (int)Math.Round(image.Width * k), h = (int)Math.Round(image.Height * k);
                var small = FaceNetSharp.Imaging.ImageResize.Resize(image, new FaceNetSharp.Imaging.PixelRect(0, 0, image.Width, image.Height), w, h, FaceNetSharp.Imaging.ResizeKernel.Area);
                float kx = (float)w / image.Width, ky = (float)h / image.Height;
                var f2 = new FaceNetSharp.Detection.DetectedFace(new FaceNetSharp.Detection.FaceBox(face.Box.X1 * kx, face.Box.Y1 * ky, face.Box.X2 * kx, face.Box.Y2 * ky),
                    face.Score, face.Landmarks.Select(l => new System.Numerics.Vector2(l.X * kx, l.Y * ky)).ToArray());
                var v = plain.EmbedAligned([plain.Align(small, f2)])[0];
                lowres[(p, px)] = v;
                output.WriteLine(string.Create(C, $"  at {px} px: {D(v, g0[p]):F3} from the full-size vector"));
            }
        }
        output.WriteLine(string.Create(C, $"lin-alex {D(g0[People[0]], g0[People[1]]):F3}; threshold {threshold:F3} (FPIR 1%, 2 people), same-person {model.Threshold:F3}"));

        // tracks, detecting every frame
        var (tracker, faces) = clip.Track(FaceTrackerOptions.For(model), null, 1);
        var summary = tracker.Summarize();
        output.WriteLine(ClipFaces.Describe(summary, tracker));
        var perTrack = new Dictionary<int, List<(int frame, TrackDetection det, float[] q1)>>();
        for (int f = 0; f < clip.Frames.Count; f++)
        {
            var dets = clip.Frames[f];
            if (dets.Count == 0) continue;
            var q1 = flip.EmbedAligned(dets.Select(d => d.Chip!).ToList());
            for (int i = 0; i < dets.Count; i++)
            {
                var tf = faces[f].FirstOrDefault(x => x.Detected && x.Box == dets[i].Face.Box);
                int id = tf?.Track ?? 0;
                if (!perTrack.TryGetValue(id, out var list)) perTrack[id] = list = [];
                list.Add((f, dets[i], q1[i]));
            }
        }
        var means = new Dictionary<int, float[]>();
        var frames = new Dictionary<int, List<float[]>>();
        foreach (var (id, dets) in perTrack.OrderBy(p => p.Key))
        {
            var s = new StringBuilder();
            s.AppendLine(C, $"== track {(id == 0 ? "none (unconfirmed)" : "#" + id)}: {dets.Count} detections, frames {dets[0].frame}-{dets[^1].frame}");
            s.AppendLine("  frame  w(px) eyes(px) score front  sharp   dLin  dAlex  dLin1  dAlex1  (1: mirror added)");
            foreach (var (frame, det, q1) in dets)
            {
                var lm = det.Face.Landmarks;
                float eyes = (lm[1] - lm[0]).Length();
                s.AppendLine(C, $"  {frame,5} {det.Face.Box.Width,6:F0} {eyes,8:F1} {det.Face.Score,5:F3} {FaceTrack.Frontality(lm),5:F2} {FaceTrack.Sharpness(det.Chip!),6:F0}  " +
                    $"{D(det.Embedding!, g0[People[0]]),5:F3}  {D(det.Embedding!, g0[People[1]]),5:F3}  {D(q1, g0[People[0]]),5:F3}  {D(q1, g0[People[1]]),5:F3}");
            }
            string Both(float[] q, Dictionary<string, float[]> g) => $"lin {D(q, g[People[0]]):F3} alex {D(q, g[People[1]]):F3}";
            var m0 = Normalised(dets.Select(d => (d.det.Embedding!, 1.0)));
            var m1 = Normalised(dets.Select(d => (d.q1, 1.0)));
            double Quality(TrackDetection d) => d.Face.Score * FaceTrack.Frontality(d.Face.Landmarks);
            var w1 = Normalised(dets.Select(d => (d.q1, Quality(d.det))));
            var w1sq = Normalised(dets.Select(d => (d.q1, Math.Pow(FaceTrack.Frontality(d.det.Face.Landmarks), 2))));
            var best = dets.OrderByDescending(d => Quality(d.det)).Take(Math.Max(3, dets.Count / 3)).ToList();
            var b1 = Normalised(best.Select(d => (d.q1, 1.0)));
            var front = dets.Where(d => FaceTrack.Frontality(d.det.Face.Landmarks) >= 0.5).ToList();
            s.AppendLine(C, $"  mean Q0 vs G0: {Both(m0, g0)}   (today)");
            s.AppendLine(C, $"  mean Q0 vs G1: {Both(m0, g1)}");
            s.AppendLine(C, $"  mean Q1 vs G0: {Both(m1, g0)}");
            s.AppendLine(C, $"  mean Q1 vs G1: {Both(m1, g1)}");
            s.AppendLine(C, $"  w=score*front Q1 vs G0: {Both(w1, g0)}");
            s.AppendLine(C, $"  w=front^2 Q1 vs G0: {Both(w1sq, g0)}");
            s.AppendLine(C, $"  best third by quality ({best.Count}) Q1 vs G0: {Both(b1, g0)}");
            if (front.Count > 0) s.AppendLine(C, $"  frontality>=0.5 ({front.Count}) Q1 vs G0: {Both(Normalised(front.Select(d => (d.q1, 1.0))), g0)}; Q0: {Both(Normalised(front.Select(d => (d.det.Embedding!, 1.0))), g0)}");
            foreach (var ((p, px), v) in lowres)
            {
                var ds = dets.Select(d => D(d.det.Embedding!, v)).Order().ToList();
                s.AppendLine(string.Create(C, $"  vs {p}@{px}px: mean {D(m0, v):F3}; frames min {ds[0]:F3} median {ds[ds.Count / 2]:F3} max {ds[^1]:F3}"));
            }
            output.WriteLine(s.ToString());
            if (id != 0) { means[id] = m0; frames[id] = dets.Select(d => d.det.Embedding!).ToList(); }
        }
        // the measurement stands on Lin-Manuel Miranda's track being found and named by its mean (track 2, from the wide shot)
        var lin = perTrack[2];
        Assert.True(D(Normalised(lin.Select(d => (d.det.Embedding!, 1.0))), g0[People[0]]) < threshold, "Lin's track is not within the threshold of his photo");
        {
            var wide = lin.Where(d => d.frame < 40).Select(d => d.det.Embedding!).ToList();
            var close = lin.Where(d => d.frame >= 80).Select(d => d.det.Embedding!).ToList();
            output.WriteLine(string.Create(C, $"track #2 wide shot ({wide.Count}) vs close-up ({close.Count}): means {D(Normalised(wide.Select(v => (v, 1.0))), Normalised(close.Select(v => (v, 1.0)))):F3}, average link {wide.SelectMany(a => close.Select(b => D(a, b))).Average():F3}"));
        }
        var ids = means.Keys.OrderBy(i => i).ToList();
        output.WriteLine("track-to-track: distance of the means / mean of the frame-to-frame distances:");
        foreach (int a in ids)
            output.WriteLine($"  #{a,-3}" + string.Concat(ids.Select(b => $" {D(means[a], means[b]).ToString("F2", C),5}/{frames[a].SelectMany(x => frames[b].Select(y => D(x, y))).Average().ToString("F2", C),-5}")));
    
    }

    /// <summary>The crowd clip (nobody enrolled): track-to-track distances, mean vectors and average link.</summary>
    [SkippableFact]
    public void Measure_crowd_track_distances()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("FACENETSHARP_MEASURE") == "1", "a measurement: set FACENETSHARP_MEASURE=1 to run it");
        VideoClips.RequireFfmpeg();
        var clip = ClipFaces.Load(VideoClips.Crowd(), models.Require(), "mobilefacenet", 40);
        var model = Embedders.MobileFaceNet;
        float D(float[] a, float[] b) => EmbeddingDistance.Compute(a, b, model.Metric);
        var (tracker, faces) = clip.Track(FaceTrackerOptions.For(model), null, 1);
        output.WriteLine(ClipFaces.Describe(tracker.Summarize(), tracker));
        var frames = new Dictionary<int, List<float[]>>();
        for (int f = 0; f < clip.Frames.Count; f++)
            foreach (var det in clip.Frames[f])
                if (faces[f].FirstOrDefault(x => x.Detected && x.Box == det.Face.Box) is { } tf)
                    (frames.TryGetValue(tf.Track, out var l) ? l : frames[tf.Track] = []).Add(det.Embedding!);
        var ids = frames.Keys.Order().ToList();
        var means = ids.ToDictionary(i => i, i => Normalised(frames[i].Select(v => (v, 1.0))));
        output.WriteLine("track-to-track: distance of the means / mean of the frame-to-frame distances:");
        foreach (int a in ids)
            output.WriteLine($"  #{a,-3}" + string.Concat(ids.Select(b => $" {D(means[a], means[b]).ToString("F2", C),5}/{frames[a].SelectMany(x => frames[b].Select(y => D(x, y))).Average().ToString("F2", C),-5}")));
    }
}
