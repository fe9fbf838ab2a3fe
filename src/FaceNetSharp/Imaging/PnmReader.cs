namespace FaceNetSharp.Imaging;

/// <summary>
/// Reads Netpbm grey maps and pixel maps: P2 (ASCII PGM), P5 (binary PGM), P3 (ASCII PPM), P6 (binary PPM), with
/// any maxval from 1 to 65535 (16-bit samples big-endian), written from the Netpbm format description
/// (netpbm.sourceforge.net/doc/pgm.html, ppm.html). The ORL/AT&amp;T faces are P5 PGMs with maxval 255.
/// Grey is replicated to R = G = B; samples are rescaled to 0..255 by <c>round(v * 255 / maxval)</c>.
/// Only the first image of a multi-image file is read.
/// </summary>
internal static class PnmReader
{
    public static bool LooksLikePnm(ReadOnlySpan<byte> data) =>
        data.Length >= 3 && data[0] == (byte)'P' && data[1] is (byte)'2' or (byte)'3' or (byte)'5' or (byte)'6'
        && IsWhitespace(data[2]);

    public static RgbImage Decode(ReadOnlySpan<byte> data, string name, ImageLoadOptions options)
    {
        char kind = (char)data[1];
        bool color = kind is '3' or '6';
        bool ascii = kind is '2' or '3';
        string format = $"P{kind} ({(color ? "PPM" : "PGM")})";
        int pos = 2;
        int width = ReadHeaderInt(data, ref pos, name, format, "width");
        int height = ReadHeaderInt(data, ref pos, name, format, "height");
        int maxVal = ReadHeaderInt(data, ref pos, name, format, "maxval");
        if (maxVal is < 1 or > 65535)
            throw new ImageLoadException(name, ImageLoadFailure.Corrupt, $"{format} maxval {maxVal} is outside 1..65535");
        ImageLoader.CheckPixelLimit(name, width, height, options);

        int channels = color ? 3 : 1;
        long samples = (long)width * height * channels;
        var rgb = new byte[checked(width * height * 3)];

        if (ascii)
        {
            for (long i = 0; i < samples; i++)
            {
                int v = ReadRasterInt(data, ref pos, name, format, samples, i);
                if (v > maxVal)
                    throw new ImageLoadException(name, ImageLoadFailure.Corrupt, $"{format} sample {v} exceeds maxval {maxVal}");
                Store(rgb, i, color, Scale(v, maxVal));
            }
        }
        else
        {
            pos++; // exactly one whitespace byte separates maxval from the raster
            int bytesPerSample = maxVal < 256 ? 1 : 2;
            long needed = samples * bytesPerSample;
            long available = Math.Max(0, data.Length - pos);
            if (available < needed)
                throw new ImageLoadException(name, ImageLoadFailure.Truncated,
                    $"{format} {width}x{height} raster is truncated: {available:N0} of {needed:N0} bytes present");
            var raster = data.Slice(pos, (int)needed);
            for (long i = 0; i < samples; i++)
            {
                int v = bytesPerSample == 1 ? raster[(int)i] : (raster[(int)(2 * i)] << 8) | raster[(int)(2 * i + 1)];
                if (v > maxVal)
                    throw new ImageLoadException(name, ImageLoadFailure.Corrupt, $"{format} sample {v} exceeds maxval {maxVal}");
                Store(rgb, i, color, Scale(v, maxVal));
            }
        }
        return new RgbImage(width, height, rgb);
    }

    private static byte Scale(int v, int maxVal) => maxVal == 255 ? (byte)v : (byte)((v * 255L + maxVal / 2) / maxVal);

    private static void Store(byte[] rgb, long sample, bool color, byte value)
    {
        if (color)
        {
            rgb[sample] = value;
        }
        else
        {
            long o = sample * 3;
            rgb[o] = rgb[o + 1] = rgb[o + 2] = value;
        }
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;

    private static void SkipWhitespaceAndComments(ReadOnlySpan<byte> data, ref int pos)
    {
        while (pos < data.Length)
        {
            if (IsWhitespace(data[pos])) { pos++; continue; }
            if (data[pos] != (byte)'#') return;
            while (pos < data.Length && data[pos] != (byte)'\n' && data[pos] != (byte)'\r') pos++;
        }
    }

    private static int ReadHeaderInt(ReadOnlySpan<byte> data, ref int pos, string name, string format, string field)
    {
        SkipWhitespaceAndComments(data, ref pos);
        if (pos >= data.Length)
            throw new ImageLoadException(name, ImageLoadFailure.Truncated, $"{format} header ends before the {field}");
        if (!TryReadDigits(data, ref pos, out int value) || (pos < data.Length && !IsWhitespace(data[pos])))
            throw new ImageLoadException(name, ImageLoadFailure.Corrupt, $"{format} header has no valid {field}");
        if (pos >= data.Length)
            throw new ImageLoadException(name, ImageLoadFailure.Truncated, $"{format} header ends after the {field}");
        return value;
    }

    private static int ReadRasterInt(ReadOnlySpan<byte> data, ref int pos, string name, string format, long total, long index)
    {
        SkipWhitespaceAndComments(data, ref pos);
        if (pos >= data.Length)
            throw new ImageLoadException(name, ImageLoadFailure.Truncated, $"{format} raster is truncated: {index:N0} of {total:N0} samples present");
        if (!TryReadDigits(data, ref pos, out int value))
            throw new ImageLoadException(name, ImageLoadFailure.Corrupt, $"{format} raster has a non-numeric sample at byte {pos}");
        return value;
    }

    private static bool TryReadDigits(ReadOnlySpan<byte> data, ref int pos, out int value)
    {
        value = 0;
        int start = pos;
        while (pos < data.Length && data[pos] is >= (byte)'0' and <= (byte)'9')
        {
            if (value > (int.MaxValue - 9) / 10) return false;
            value = value * 10 + (data[pos] - '0');
            pos++;
        }
        return pos > start;
    }
}
