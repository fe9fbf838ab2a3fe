namespace FaceNetSharp.AspNetCore;

/// <summary>
/// A request the API refuses, with the HTTP status and a message for the caller; turned into
/// <c>application/problem+json</c> by <see cref="ApiProblems"/>.
/// </summary>
internal sealed class ApiProblemException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;

    public static ApiProblemException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "Bad request", detail);

    /// <summary>422: the image decoded but has no face where one is needed.</summary>
    public static ApiProblemException NoFace(string field) =>
        new(StatusCodes.Status422UnprocessableEntity, "No face found",
            $"No face was found in '{field}'. Use a photo where a face is visible and at least 20 pixels wide.");
}
