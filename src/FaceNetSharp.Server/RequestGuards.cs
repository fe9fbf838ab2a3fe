using System.Net;

namespace FaceNetSharp.Server;

/// <summary>
/// The two checks that keep web pages from driving a server without an API key (both run before anything else):
/// <list type="bullet">
/// <item>Host: a request must name the server as it listens (the loopback names 127.0.0.1, localhost and [::1] with
/// the port the request came in on, the host names of its URLs, <see cref="ServerOptions.AllowedHosts"/>). This
/// defeats DNS rebinding, where a page's own host name is made to resolve to 127.0.0.1 so that the browser lets the
/// page read the answers; such a request still carries the page's host name. Answered 400.</item>
/// <item>Origin: a POST/PUT/PATCH/DELETE sent by a browser on behalf of another site (its <c>Origin</c> is not the
/// server's own and not in <see cref="ServerOptions.AllowedOrigins"/>, or <c>Sec-Fetch-Site</c> says cross-site or
/// same-site without such an Origin) is refused, 403: a form or fetch from any page must not enrol or remove
/// people. Requests without either header (curl, scripts, other servers) are not browsers' and pass.</item>
/// </list>
/// </summary>
internal sealed class RequestGuards
{
    private static readonly string[] LoopbackNames = ["localhost", "127.0.0.1", "[::1]"];

    private readonly HashSet<string> _names;            // host names allowed on the port the request came in on
    private readonly HashSet<string> _namesWithPort;    // configured "name:port" entries
    private readonly HashSet<string> _anyPort;          // configured names without a port
    private readonly bool _anyHost;
    private readonly bool _anyAddress;                  // listening on every interface: any IP literal is the server
    private readonly HashSet<string> _origins;

    public RequestGuards(ServerOptions options)
    {
        _names = new HashSet<string>(LoopbackNames, StringComparer.OrdinalIgnoreCase);
        foreach (var url in options.Urls)
        {
            var host = ListenHost(url);
            if (host is "*" or "+" or "0.0.0.0" or "[::]")
            {
                _anyAddress = true;
                _names.Add(Dns.GetHostName());
            }
            else if (host is not null) _names.Add(host);
        }

        _namesWithPort = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        _anyPort = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in options.AllowedHosts)
        {
            var e = entry.Trim();
            if (e == "*") _anyHost = true;
            else if (e.Length == 0 || e.Contains('/') || e.Contains('@'))
                throw new ArgumentException($"'{entry}' is not a host name (allowed hosts are names such as example.org or example.org:8080, or *)");
            else if (HostString.FromUriComponent(e).Port is not null) _namesWithPort.Add(e);
            else _anyPort.Add(e);
        }

        _origins = new HashSet<string>(options.AllowedOrigins.Select(NormaliseOrigin), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The origins whose pages may call the API (for the CORS policy), as scheme://host[:port].</summary>
    public IReadOnlyCollection<string> AllowedOrigins => _origins;

    /// <summary>The middleware: the Host check on every request, then the Origin check on state-changing ones.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (!HostAllowed(request.Host, request.Scheme, context.Connection.LocalPort))
        {
            string host = request.Host.HasValue ? $"'{Excerpt(request.Host.Value)}'" : "(none)";
            await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Host not allowed",
                detail: $"This server does not answer to the Host {host}; it answers as " +
                    $"{string.Join(", ", _names.Select(n => $"{n}:{context.Connection.LocalPort}"))}" +
                    (_anyPort.Count + _namesWithPort.Count > 0 ? $", {string.Join(", ", _anyPort.Concat(_namesWithPort))}" : "") +
                    (_anyAddress ? $" and any IP address with port {context.Connection.LocalPort}" : "") +
                    ". Start it with --allowed-hosts NAME to answer to another name (a proxy's, or a port-forward's).")
                .ExecuteAsync(context);
            return;
        }

        if (IsStateChanging(request.Method) && CrossSite(request) is { } from)
        {
            await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Cross-site request refused",
                detail: $"A {request.Method} from {from} is refused: only this server's own page " +
                    $"({request.Scheme}://{request.Host}) may change or query it from a browser. " +
                    "Start the server with --allowed-origins ORIGIN to let another site's pages call the API.")
                .ExecuteAsync(context);
            return;
        }

        await next(context);
    }

    private bool HostAllowed(HostString host, string scheme, int localPort)
    {
        if (_anyHost) return true;
        if (!host.HasValue || string.IsNullOrEmpty(host.Host)) return false;
        int port = host.Port ?? (scheme == "https" ? 443 : 80);
        if (_anyPort.Contains(host.Host) || _namesWithPort.Contains($"{host.Host}:{port}")) return true;
        if (port != localPort) return false;
        return _names.Contains(host.Host) || _anyAddress && IPAddress.TryParse(host.Host.Trim('[', ']'), out _);
    }

    /// <summary>Where a browser sent a request from, when that is another site this server does not allow; else null.</summary>
    private string? CrossSite(HttpRequest request)
    {
        string? origin = request.Headers.Origin;
        if (!string.IsNullOrEmpty(origin))
        {
            if (IsOwnOrigin(origin, request) || _origins.Contains(TryNormaliseOrigin(origin) ?? "")) return null;
            return $"a page of {Excerpt(origin)}";
        }
        string? site = request.Headers["Sec-Fetch-Site"];
        return site is "cross-site" or "same-site" ? $"a {site} page (no Origin header)" : null;
    }

    private static bool IsOwnOrigin(string origin, HttpRequest request) =>
        TryNormaliseOrigin(origin) is { } o && TryNormaliseOrigin($"{request.Scheme}://{request.Host}") is { } own &&
        string.Equals(o, own, StringComparison.OrdinalIgnoreCase);

    private static bool IsStateChanging(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    /// <summary>scheme://host[:port] with the default port left out, as browsers write Origin; null when it is not one.</summary>
    private static string? TryNormaliseOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" &&
        uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.UserInfo.Length == 0
            ? uri.IsDefaultPort ? $"{uri.Scheme}://{uri.Host}" : $"{uri.Scheme}://{uri.Host}:{uri.Port}"
            : null;

    private static string NormaliseOrigin(string origin) =>
        TryNormaliseOrigin(origin.Trim().TrimEnd('/')) ?? throw new ArgumentException(
            $"'{origin}' is not an origin: allowed origins are written scheme://host[:port], e.g. https://app.example.org or http://localhost:3000");

    /// <summary>The host part of a Kestrel URL (brackets kept for IPv6), or null when it does not parse.</summary>
    private static string? ListenHost(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return null;
        var rest = url[(scheme + 3)..];
        int slash = rest.IndexOf('/');
        if (slash >= 0) rest = rest[..slash];
        return HostString.FromUriComponent(rest).Host;
    }

    private static string Excerpt(string text) => text.Length <= 100 ? text : text[..100] + "…";
}
