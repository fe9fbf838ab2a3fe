using System.Numerics;
using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Video.Tracking;

/// <summary>
/// One face the detector found in a frame, as given to <see cref="FaceTracker.Update"/>, with its embedding and
/// aligned chip when the caller computed them (both optional: without embeddings a track cannot be named,
/// re-identified or clustered; without a chip it has no best chips).
/// </summary>
/// <param name="Face">The detection: box, score and the five landmarks.</param>
/// <param name="Embedding">The face's unit-length embedding, or null when it was not embedded this frame.</param>
/// <param name="Chip">The aligned chip the embedding was computed from, kept (not copied) if it is among the track's best.</param>
public sealed record TrackDetection(DetectedFace Face, float[]? Embedding = null, RgbImage? Chip = null);

/// <summary>
/// A tracked face in one frame, as <see cref="FaceTracker.Update"/> reports it: the track's id, its box (the
/// detection, or the prediction on a frame the detector did not run), and the track's current name.
/// </summary>
/// <param name="Track">The track's id (1, 2, ... in order of confirmation).</param>
/// <param name="Box">The box in frame pixels.</param>
/// <param name="Landmarks">The five landmarks (moved with the predicted box on a frame without detection).</param>
/// <param name="Detected">True when the detector found the face in this frame; false for a predicted box.</param>
/// <param name="Score">The detector's score (the last detection's on a predicted frame).</param>
/// <param name="Name">The track's name so far, or null while it is unknown (or there is no gallery).</param>
/// <param name="Distance">The distance of the track's combined embedding to the nearest enrolled person, or null when not known.</param>
public sealed record TrackedFace(int Track, FaceBox Box, Vector2[] Landmarks, bool Detected, float Score, string? Name, float? Distance);

/// <summary>
/// One of a track's best chips: the aligned face with its frame and quality. Quality is the detector's score times
/// the face's frontality (1 when the nose lies midway between the eyes, falling to 0 as the head turns to profile);
/// sharpness (variance of the chip's Laplacian, on grey levels 0..255) breaks ties and is reported.
/// </summary>
public sealed record TrackChip(int Frame, TimeSpan Time, RgbImage Chip, float Quality, float Score, float Frontality, float Sharpness);

/// <summary>The name of a track against a gallery, from its frames' embeddings combined.</summary>
/// <param name="Person">The nearest enrolled person.</param>
/// <param name="Distance">The combined distance to that person (see <see cref="TrackNaming"/>).</param>
/// <param name="IsKnown">True when the distance is below the identification threshold: the track is that person.</param>
/// <param name="Embeddings">How many of the track's embeddings the answer rests on.</param>
public sealed record TrackName(string Person, float Distance, bool IsKnown, int Embeddings);

/// <summary>Who appears when: one line per confirmed track.</summary>
/// <param name="Track">The track's id.</param>
/// <param name="Name">The track's final name, or null when unknown.</param>
/// <param name="Distance">Its combined distance to the nearest enrolled person, or null.</param>
/// <param name="Stranger">For an unknown track: its group among the unknown tracks (1, 2, ...; tracks of one group look like one person), or null.</param>
/// <param name="FirstFrame">The first frame it was detected in.</param>
/// <param name="LastFrame">The last frame it was detected in.</param>
/// <param name="FirstTime">The first frame's time.</param>
/// <param name="LastTime">The last frame's time.</param>
/// <param name="FramesSeen">Frames it was detected in.</param>
/// <param name="Embeddings">Embeddings it gathered.</param>
public sealed record TrackSummary(int Track, string? Name, float? Distance, int? Stranger, int FirstFrame, int LastFrame,
    TimeSpan FirstTime, TimeSpan LastTime, int FramesSeen, int Embeddings);

/// <summary>The summary of a video: every confirmed track, the named people, and the groups of unknown tracks.</summary>
/// <param name="Tracks">Every confirmed track, by id.</param>
/// <param name="People">Each named person and their tracks' ids.</param>
/// <param name="Strangers">Each group of unknown tracks (by <see cref="TrackSummary.Stranger"/>) and its tracks' ids; tracks without embeddings are in no group.</param>
public sealed record VideoSummary(IReadOnlyList<TrackSummary> Tracks, IReadOnlyDictionary<string, IReadOnlyList<int>> People,
    IReadOnlyList<IReadOnlyList<int>> Strangers);
