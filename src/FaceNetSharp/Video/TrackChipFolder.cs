using System.Globalization;
using FaceNetSharp.Imaging;
using FaceNetSharp.IO;
using FaceNetSharp.Video.Tracking;

namespace FaceNetSharp.Video;

/// <summary>One chip <see cref="TrackChipFolder.Save"/> wrote: its file and where in the video it came from.</summary>
/// <param name="Path">The PNG file (as given: relative to the working folder when the folder was).</param>
/// <param name="Chip">The chip: frame, time, quality, detector score, frontality, sharpness.</param>
public sealed record SavedChip(string Path, TrackChip Chip);

/// <summary>
/// Saves the best chips of a video's tracks (<see cref="FaceTrack.BestChips"/>: detector score x frontality) as PNG,
/// one folder per track: <c>DIR/track-0007/frame-000123.png</c>, named by track id and frame number. Each file is
/// written whole or not at all (<see cref="ImageWriter.Save"/> writes through <see cref="AtomicFile"/>).
/// </summary>
public static class TrackChipFolder
{
    /// <summary>The folder of track <paramref name="track"/>'s chips inside <paramref name="dir"/>: <c>track-0007</c>.</summary>
    public static string TrackFolder(string dir, int track) => Path.Combine(dir, "track-" + track.ToString("D4", CultureInfo.InvariantCulture));

    /// <summary>The file of the chip of frame <paramref name="frame"/> in <paramref name="trackFolder"/>: <c>frame-000123.png</c>.</summary>
    public static string ChipFile(string trackFolder, int frame) => Path.Combine(trackFolder, "frame-" + frame.ToString("D6", CultureInfo.InvariantCulture) + ".png");

    /// <summary>
    /// Creates <paramref name="dir"/> if needed and proves a file can be written in it (a probe created and deleted),
    /// so that a run that would fail at its end fails before it starts. Throws <see cref="IOException"/> naming the
    /// folder and the cause otherwise.
    /// </summary>
    public static void EnsureWritable(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        try
        {
            if (File.Exists(dir)) throw new IOException("it is a file, not a folder");
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".facenet-probe.{Guid.NewGuid():N}.tmp");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"--chips {dir}: cannot write chips there ({Reason(e)})", e);
        }
    }

    /// <summary>
    /// Writes every confirmed track's best chips under <paramref name="dir"/>, adding the files written to
    /// <paramref name="written"/> by track id, best chip first. A track without chips gets no folder. Throws
    /// <see cref="IOException"/> naming the file at the first failure; the files written before it stay whole and are
    /// in <paramref name="written"/>. Chips of frames from <paramref name="beforeFrame"/> on are left out: the tracker
    /// runs a few frames ahead of the outputs, so after Ctrl-C it holds chips of frames the video and timeline do not.
    /// </summary>
    public static void Save(IEnumerable<FaceTrack> tracks, string dir, IDictionary<int, IReadOnlyList<SavedChip>> written, long beforeFrame = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(tracks);
        ArgumentException.ThrowIfNullOrEmpty(dir);
        ArgumentNullException.ThrowIfNull(written);
        foreach (var track in tracks)
        {
            if (track.Id == 0 || !track.BestChips.Any(c => c.Frame < beforeFrame)) continue;
            var folder = TrackFolder(dir, track.Id);
            var files = new List<SavedChip>(track.BestChips.Count);
            foreach (var chip in track.BestChips)
            {
                if (chip.Frame >= beforeFrame) continue;
                var file = ChipFile(folder, chip.Frame);
                try { ImageWriter.Save(chip.Chip, file); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    if (files.Count > 0) written[track.Id] = files;
                    throw new IOException($"{file}: cannot write the chip ({Reason(e)})", e);
                }
                files.Add(new SavedChip(file, chip));
            }
            written[track.Id] = files;
        }
    }

    private static string Reason(Exception e) => e is UnauthorizedAccessException ? "permission denied" : e.Message;
}
