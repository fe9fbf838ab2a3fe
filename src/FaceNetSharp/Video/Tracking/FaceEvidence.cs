using FaceNetSharp.Detection;

namespace FaceNetSharp.Video.Tracking;

/// <summary>
/// Which detections a claim made from appearance alone may rest on: grouping unknown tracks into strangers
/// (<see cref="StrangerGrouping"/>), and taking up, across a scene cut, a track without such evidence
/// (<see cref="FaceTracker"/>: a face the detector is sure of). Measured with StrangerEvidenceMeasurements (both clips,
/// both models).
/// </summary>
internal static class FaceEvidence
{
    /// <summary>
    /// The detector's score a detection needs to be evidence (and to take up across a cut a track without it). MTCNN (facenet's last-stage threshold 0.7) scores the faces
    /// it sees clearly 0.98-1.0: the median score of each track of a frontal or turned face on both clips
    /// (StrangerEvidenceMeasurements), against 0.90-0.92 for Alex Lacamoire's profile and 0.83 for the false detections
    /// in Lin-Manuel Miranda's close-up. The wrong groups rested on 0.72-0.90: with dlib on short_hamilton_clip.mp4 an
    /// audience track of 2-3 detections at 0.78-0.85 (joined with Alex Lacamoire's profile shot: the README's first example printed "3, 10"); with
    /// MobileFaceNet on the crowd clip, detecting every frame, three tracks of 2-4 detections at 0.73-0.90 (a blurred
    /// head, a hand over a face and a reflection, a boy looking down) were one stranger. 0.95 leaves a margin on both
    /// sides; 0.9 measured the same on these clips.
    /// </summary>
    internal const float MinScore = 0.95f;

    /// <summary>
    /// The frontality (<see cref="FaceTrack.Frontality"/>: 1 with the nose midway between the eyes, 0.5 with it a quarter
    /// of the eye distance off) a detection needs to be evidence: the grouping threshold comes from operating points
    /// measured on near-frontal photo pairs, and a profile's vector is out of that domain. With dlib, Alex Lacamoire's
    /// profile close-up (frames 21-81; frontality at most 0.35, 0 for most frames) was within the threshold of an
    /// audience face (0.25-0.29, threshold 0.33). Lin-Manuel Miranda's shots measure 0.74-0.77 (median), the crowd's
    /// faces walking towards the camera 0.62-0.94; 0.25 measured the same on both clips.
    /// </summary>
    internal const float MinFrontality = 0.5f;

    /// <summary>Whether a detection is evidence for grouping (<see cref="StrangerGrouping.MinEvidence"/>): sure (<see cref="MinScore"/>) and not in profile (<see cref="MinFrontality"/>).</summary>
    internal static bool IsEvidence(DetectedFace face) => face.Score >= MinScore && FaceTrack.Frontality(face.Landmarks) >= MinFrontality;
}
