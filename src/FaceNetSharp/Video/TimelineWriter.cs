using System.Text.Json;
using FaceNetSharp.Video.Tracking;

namespace FaceNetSharp.Video;

/// <summary>
/// The JSONL timeline of a video, one line per frame, written as frames are done:
/// <c>{"frame":0,"time":0.0,"faces":[{"track":1,"box":[x1,y1,x2,y2],"landmarks":[[x,y],...],"name":"..."|null,"distance":0.41|null,"detected":true}]}</c>.
/// <c>time</c> is in seconds (frame / rate); <c>name</c> is the track's name so far (null while unknown);
/// <c>detected</c> is false on a frame where the box is the tracker's prediction. Each line is written to the stream
/// in one write and flushed, so a reader (or a run stopped at any point) sees whole lines only.
/// </summary>
public sealed class TimelineWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new(4096);

    /// <summary>Writes to <paramref name="stream"/> (disposed with this unless <paramref name="leaveOpen"/>).</summary>
    public TimelineWriter(Stream stream, bool leaveOpen = false)
    {
        _stream = stream;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Lines written.</summary>
    public long Lines { get; private set; }

    /// <summary>Writes frame <paramref name="frame"/>'s line.</summary>
    public void Write(long frame, TimeSpan time, IReadOnlyList<TrackedFace> faces)
    {
        _buffer.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(_buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("frame", frame);
            w.WriteNumber("time", Math.Round(time.TotalSeconds, 3));
            w.WriteStartArray("faces");
            foreach (var f in faces)
            {
                w.WriteStartObject();
                w.WriteNumber("track", f.Track);
                w.WriteStartArray("box");
                foreach (var v in new[] { f.Box.X1, f.Box.Y1, f.Box.X2, f.Box.Y2 }) w.WriteNumberValue(Math.Round(v, 1));
                w.WriteEndArray();
                w.WriteStartArray("landmarks");
                foreach (var p in f.Landmarks)
                {
                    w.WriteStartArray();
                    w.WriteNumberValue(Math.Round(p.X, 1));
                    w.WriteNumberValue(Math.Round(p.Y, 1));
                    w.WriteEndArray();
                }
                w.WriteEndArray();
                if (f.Name is null) w.WriteNull("name"); else w.WriteString("name", f.Name);
                if (f.Distance is { } d) w.WriteNumber("distance", Math.Round(d, 4)); else w.WriteNull("distance");
                w.WriteBoolean("detected", f.Detected);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        _buffer.GetSpan(1)[0] = (byte)'\n';
        _buffer.Advance(1);
        _stream.Write(_buffer.WrittenSpan);
        _stream.Flush();
        Lines++;
    }

    /// <summary>Flushes, and closes the stream unless it was left open.</summary>
    public void Dispose()
    {
        _stream.Flush();
        if (!_leaveOpen) _stream.Dispose();
    }
}
