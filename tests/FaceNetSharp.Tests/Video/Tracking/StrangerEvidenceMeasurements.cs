using System.Globalization;
using System.Text.Json;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Recognition;
using FaceNetSharp.Tests.Models;
using FaceNetSharp.Video.Tracking;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video.Tracking;

/// <summary>
/// Measurements behind the evidence a track needs to join a group of strangers (<see cref="StrangerGrouping"/>): every
/// detection the tracker gave to a track on both clips, with both models, detecting every frame and every 3rd, written
/// as JSON lines (track, frame, box, score, landmarks, frontality, embedding) with the enrolment vectors of the Hamilton
/// clip's two people (photo, and shrunk to 24 and 48 px), for analysis outside the test. Measurements, not checks: they
/// run with FACENETSHARP_MEASURE=1 (FACENETSHARP_MEASURE_OUT: the folder, /tmp by default) and skip otherwise.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class StrangerEvidenceMeasurements(InstalledModelsFixture models, ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData("hamilton", "mobilefacenet")]
    [InlineData("hamilton", "dlib")]
    [InlineData("crowd", "mobilefacenet")]
    [InlineData("crowd", "dlib")]
    public void Dump_track_detections(string clipName, string modelName)
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("FACENETSHARP_MEASURE") == "1", "a measurement: set FACENETSHARP_MEASURE=1 to run it");
        var store = models.Require();
        var clip = clipName == "hamilton"
            ? ClipFaces.Load(VideoClips.Hamilton(), store, modelName)
            : ClipFaces.Load(VideoClips.Crowd(), store, modelName, 40);
        using var recognizer = FaceRecognizer.Open(modelName, store.Directory);
        var model = recognizer.Model;
        var dir = Environment.GetEnvironmentVariable("FACENETSHARP_MEASURE_OUT") ?? Path.GetTempPath();
        var path = Path.Combine(dir, $"evidence-{clipName}-{modelName}.jsonl");
        using var w = new StreamWriter(path);
        var c = CultureInfo.InvariantCulture;
        string Vec(float[] v) => "[" + string.Join(",", v.Select(x => x.ToString("R", c))) + "]";
        var thresholds = Enumerable.Range(2, 20).ToDictionary(n => n, n => StrangerGrouping.Threshold(n, model.OperatingPoints, model.Threshold));
        w.WriteLine(JsonSerializer.Serialize(new { kind = "model", model = model.Name, metric = model.Metric.ToString(), same = model.Threshold, identify2 = IdentificationThreshold.Choose(model, IdentificationThreshold.Comparisons(2)).Threshold, grouping = thresholds }));
        if (clipName == "hamilton")
        {
            foreach (var p in new[] { "lin-manuel-miranda", "alex-lacamoire" })
            {
                var image = ImageLoader.Load(VideoClips.HamiltonFace(p));
                var face = recognizer.Detect(image).MaxBy(f => f.Box.Area)!;
                var v = recognizer.EmbedAligned([recognizer.Align(image, face)])[0];
                w.WriteLine($"{{\"kind\":\"gallery\",\"person\":\"{p}\",\"px\":0,\"v\":{Vec(v)}}}");
                foreach (var (px, sv) in LowResolutionEnrolment.Embed(recognizer, image, face, [24, 48]))
                    w.WriteLine($"{{\"kind\":\"gallery\",\"person\":\"{p}\",\"px\":{px},\"v\":{Vec(sv)}}}");
            }
        }
        foreach (int every in new[] { 1, 3 })
        {
            var (tracker, faces) = clip.Track(FaceTrackerOptions.For(model), null, every);
            output.WriteLine($"every {every}:\n" + ClipFaces.Describe(tracker.Summarize(), tracker));
            // a track's first detection (tentative then, so not among the frame's faces): the detection of its first
            // frame nearest to its box at its second detection
            var first = new Dictionary<(int, FaceNetSharp.Detection.FaceBox), int>();
            foreach (var t in tracker.Tracks)
            {
                var second = faces.Skip(t.FirstFrame + 1).SelectMany(x => x).First(x => x.Track == t.Id && x.Detected).Box;
                var det = clip.Frames[t.FirstFrame].Where(d => !faces[t.FirstFrame].Any(x => x.Detected && x.Box == d.Face.Box))
                    .MinBy(d => (FaceTrack.Center(d.Face.Box) - FaceTrack.Center(second)).Length());
                if (det is not null) first[(t.FirstFrame, det.Face.Box)] = t.Id;
            }
            for (int f = 0; f < clip.Frames.Count; f += every)
            {
                if (clip.Cuts[f]) w.WriteLine($"{{\"kind\":\"cut\",\"every\":{every},\"frame\":{f}}}");
                foreach (var det in clip.Frames[f])
                {
                    int id = faces[f].FirstOrDefault(x => x.Detected && x.Box == det.Face.Box)?.Track ?? first.GetValueOrDefault((f, det.Face.Box));
                    var b = det.Face.Box;
                    var lm = det.Face.Landmarks;
                    w.WriteLine(string.Create(c, $"{{\"kind\":\"det\",\"every\":{every},\"frame\":{f},\"track\":{id},\"box\":[{b.X1:F1},{b.Y1:F1},{b.X2:F1},{b.Y2:F1}],\"score\":{det.Face.Score:F4},\"eyes\":{(lm[1] - lm[0]).Length():F2},\"front\":{FaceTrack.Frontality(lm):F3},\"sharp\":{FaceTrack.Sharpness(det.Chip!):F1},\"v\":{Vec(det.Embedding!)}}}"));
                }
            }
        }
        output.WriteLine($"wrote {path}");
    }
}
