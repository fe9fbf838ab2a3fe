using FaceNetSharp.Imaging;

namespace FaceNetSharp.AspNetCore;

/// <summary>One uploaded image, read into memory (still encoded) with the label error messages use.</summary>
internal sealed record Upload(string Label, byte[] Bytes)
{
    /// <summary>Decodes the image; failures are <see cref="ImageLoadException"/> naming <see cref="Label"/>.</summary>
    public RgbImage Decode(ImageLoadOptions options) => ImageLoader.Decode(Bytes, Label, options);

    /// <summary>The width and height the header declares (nothing is decoded); null when it does not say here.</summary>
    public (int Width, int Height)? HeaderSize { get; } = ImageLoader.TryReadSize(Bytes, out int w, out int h) ? (w, h) : null;

    /// <summary>
    /// The decoded size, width x height, from the header; for content whose size the header does not give here
    /// (PGM/PPM, or not an image at all) the byte count, which bounds it (a PGM/PPM raster holds at least one byte
    /// per pixel, and anything else fails to decode at its first bytes).
    /// </summary>
    public long Pixels => HeaderSize is { } size ? (long)size.Width * size.Height : Bytes.LongLength;

    /// <summary>The size in words, for messages.</summary>
    public string Size => HeaderSize is { } size ? $"{size.Width}x{size.Height} = {Pixels:N0} pixels" : $"up to {Pixels:N0} pixels";
}

/// <summary>Reads multipart/form-data requests: checks the content type, finds the named file fields.</summary>
internal static class Uploads
{
    public static async Task<IFormCollection> ReadFormAsync(HttpRequest request, CancellationToken cancel)
    {
        if (!request.HasFormContentType ||
            !request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "Expected multipart/form-data",
                $"Send the image(s) as multipart/form-data file fields; the request's Content-Type is '{request.ContentType ?? "(none)"}'.");
        try
        {
            return await request.ReadFormAsync(cancel);
        }
        // The form reader fails with a bare IOException when the body ends before the multipart's closing boundary
        // (a truncated upload). BadHttpRequestException is an IOException too, but carries its own status (413, 400).
        catch (IOException e) when (e is not BadHttpRequestException && !cancel.IsCancellationRequested)
        {
            throw new ApiProblemException(StatusCodes.Status400BadRequest, "Malformed multipart body",
                "The multipart/form-data body ended before its closing boundary: the upload is truncated, or the " +
                "body is not in the multipart format its Content-Type declares.");
        }
    }

    /// <summary>The single file of field <paramref name="field"/> (400 when missing or repeated).</summary>
    public static async Task<Upload> OneAsync(IFormCollection form, string field, CancellationToken cancel)
    {
        var files = form.Files.GetFiles(field);
        if (files.Count == 0) throw Missing(form, field);
        if (files.Count > 1)
            throw ApiProblemException.BadRequest($"The field '{field}' holds {files.Count} files; this endpoint takes exactly one.");
        return await ReadAsync(files[0], cancel);
    }

    /// <summary>Every file of field <paramref name="field"/> (400 when there is none).</summary>
    public static async Task<IReadOnlyList<Upload>> AllAsync(IFormCollection form, string field, CancellationToken cancel)
    {
        var files = form.Files.GetFiles(field);
        if (files.Count == 0) throw Missing(form, field);
        var result = new List<Upload>(files.Count);
        foreach (var f in files) result.Add(await ReadAsync(f, cancel));
        return result;
    }

    private static async Task<Upload> ReadAsync(IFormFile file, CancellationToken cancel)
    {
        var bytes = new byte[file.Length];
        await using (var s = file.OpenReadStream())
            await s.ReadExactlyAsync(bytes, cancel);
        string label = string.IsNullOrEmpty(file.FileName) ? file.Name : $"{file.Name} ({Path.GetFileName(file.FileName)})";
        return new Upload(label, bytes);
    }

    private static ApiProblemException Missing(IFormCollection form, string field)
    {
        var present = form.Files.Select(f => f.Name).Concat(form.Keys).Distinct().ToList();
        return ApiProblemException.BadRequest(
            $"The multipart field '{field}' (a file) is missing; the request has " +
            (present.Count == 0 ? "no fields." : $"the fields {string.Join(", ", present.Select(p => $"'{p}'"))}."));
    }
}
