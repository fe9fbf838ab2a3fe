using FaceNetSharp.Embedding;
using FaceNetSharp.Tests.Models;
using FaceNetSharp.Video.Tracking;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video.Tracking;

/// <summary>
/// Measurement (read the output): a false scene cut (a flash, a cut detected where there is none) at each frame of a
/// continuous shot in turn, and how many tracks the tracker then makes against the run without it: what ending or
/// keeping tracks at a cut costs. Runs with FACENETSHARP_MEASURE=1, skips otherwise.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class FalseCutMeasurements(InstalledModelsFixture models, ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData("hamilton", "mobilefacenet")]
    [InlineData("hamilton", "dlib")]
    [InlineData("crowd", "mobilefacenet")]
    [InlineData("crowd", "dlib")]
    public void Measure_tracks_split_by_a_false_cut(string clipName, string modelName)
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("FACENETSHARP_MEASURE") == "1", "a measurement: set FACENETSHARP_MEASURE=1 to run it");
        var store = models.Require();
        var clip = clipName == "hamilton" ? ClipFaces.Load(VideoClips.Hamilton(), store, modelName) : ClipFaces.Load(VideoClips.Crowd(), store, modelName, 40);
        var info = modelName == "dlib" ? Embedders.DlibResNet : Embedders.MobileFaceNet;
        // continuous shots: Lin-Manuel Miranda's close-up (83-210), the audience (212-274); the crowd clip is one shot
        var frames = clipName == "hamilton" ? Enumerable.Range(84, 126).Concat(Enumerable.Range(213, 60)) : Enumerable.Range(2, 102);
        foreach (int every in new[] { 1, 3 })
        {
            var (plain, _) = clip.Track(FaceTrackerOptions.For(info), null, every);
            int baseline = plain.Tracks.Count;
            var splits = new List<string>();
            int tried = 0;
            foreach (int f in frames.Where(f => f % every == 0))
            {
                tried++;
                var (t, _) = clip.Track(FaceTrackerOptions.For(info), null, every, falseCuts: [f]);
                if (t.Tracks.Count == baseline) continue;
                // the tracks that differ from the run without the false cut: first-last frame (frames seen, median score)
                static string Span(FaceTrack x) => $"{x.FirstFrame}-{x.LastFrame}";
                var before = plain.Tracks.Select(Span).ToHashSet();
                var after = t.Tracks.Select(Span).ToHashSet();
                splits.Add($"{f}: {t.Tracks.Count - baseline:+0;-0} (-[{string.Join(" ", before.Except(after))}] +[{string.Join(" ", after.Except(before))}])");
            }
            output.WriteLine($"{clipName} {modelName} every {every}: {baseline} tracks; a false cut at {tried} frames changed the count at {splits.Count}:\n    {string.Join("\n    ", splits)}");
        }
    }
}
