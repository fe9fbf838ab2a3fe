using FaceNetSharp.Imaging;
using FaceNetSharp.Recognition;
using Microsoft.AspNetCore.Mvc;

namespace FaceNetSharp.AspNetCore;

/// <summary>
/// Turns the failures a caller can fix or retry (bad upload, body too large, no face, busy server, a remote gallery
/// that does not answer) into
/// <c>application/problem+json</c> with a message saying what was wrong: an endpoint filter on the API's group, so
/// that the answers do not depend on the host's middleware. Anything else is left to the host (500).
/// </summary>
internal static class ApiProblems
{
    /// <summary>The endpoint filter: runs the handler, and answers the failures <see cref="Describe"/> knows.</summary>
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception e) when (Describe(e) is { } problem)
        {
            if (problem.Status == StatusCodes.Status503ServiceUnavailable) context.HttpContext.Response.Headers.RetryAfter = "1";
            return Results.Problem(problem);
        }
    }

    /// <summary>The problem details of a failure the caller can fix; null for anything else.</summary>
    public static ProblemDetails? Describe(Exception exception)
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
            // A remote gallery (a cluster's database or silos) that did not answer within its time-out.
            GalleryUnavailableException e => (StatusCodes.Status503ServiceUnavailable, "Gallery unavailable", e.Message),
            _ => (0, "", ""),
        };
        return status == 0 ? null : new ProblemDetails { Status = status, Title = title, Detail = detail };
    }
}
