namespace FaceNetSharp.AspNetCore;

/// <summary>Maps the face API's endpoints in an ASP.NET Core application.</summary>
public static class FaceNetEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the JSON API under <paramref name="prefix"/>: <c>POST detect</c>, <c>embed</c>, <c>verify</c>,
    /// <c>identify</c> (multipart/form-data uploads), <c>GET gallery</c>, <c>POST</c> and <c>DELETE gallery/{name}</c>,
    /// on the singletons <see cref="FaceNetServiceCollectionExtensions.AddFaceNet"/> registered. Failures a caller
    /// can fix are answered as problem details (400 bad upload, 413 too large, 422 no face, 503 busy with
    /// <c>Retry-After</c>). Authentication, CORS, host filtering and request size limits are the application's.
    /// <code>
    /// app.MapFaceNetApi("/v1");                                   // or .RequireAuthorization()
    /// </code>
    /// </summary>
    /// <param name="endpoints">The application (or another route builder).</param>
    /// <param name="prefix">Where the API lives, e.g. <c>/v1</c>.</param>
    /// <returns>The group of the endpoints, to add conventions (authorization, rate limiting, OpenAPI tags).</returns>
    public static RouteGroupBuilder MapFaceNetApi(this IEndpointRouteBuilder endpoints, string prefix = "/v1")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        if (endpoints.ServiceProvider.GetService<FaceNetStartup>() is null)
            throw new InvalidOperationException("MapFaceNetApi needs the services of AddFaceNet: call builder.Services.AddFaceNet(...) first.");
        var group = endpoints.MapGroup(prefix);
        FaceApi.Map(group);
        return group;
    }
}
