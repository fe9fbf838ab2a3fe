using FaceNetSharp.Imaging;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace FaceNetSharp.Server;

/// <summary>
/// Turns the failures a caller can fix (bad upload, body too large, no face, busy server) into
/// <c>application/problem+json</c> with a message saying what was wrong. Anything else is left to the default
/// handler (500 without details).
/// </summary>
internal sealed class ProblemExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            ApiProblemException p => (p.Status, p.Title, p.Message),
            ImageLoadException { Reason: ImageLoadFailure.TooLarge } e => (StatusCodes.Status413PayloadTooLarge, "Image too large", e.Message),
            ImageLoadException { Reason: ImageLoadFailure.Empty } e => (StatusCodes.Status400BadRequest, "Empty image", e.Message),
            ImageLoadException e => (StatusCodes.Status400BadRequest, "Not a readable image", e.Message),
            // Kestrel's body limit (413) and malformed requests (400) surface while the form is read.
            BadHttpRequestException e when e.StatusCode == StatusCodes.Status413PayloadTooLarge =>
                (e.StatusCode, "Request too large", $"{e.Message} Send smaller images, or start the server with a larger --max-request-mb."),
            BadHttpRequestException e => (e.StatusCode, "Bad request", e.Message),
            // The form reader's own limits and malformed multipart bodies.
            InvalidDataException e => (StatusCodes.Status400BadRequest, "Malformed multipart body", e.Message),
            ServerBusyException e => (StatusCodes.Status503ServiceUnavailable, "Server busy", e.Message),
            _ => (0, "", ""),
        };
        if (status == 0) return false;

        if (status == StatusCodes.Status503ServiceUnavailable) context.Response.Headers.RetryAfter = "1";
        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}
