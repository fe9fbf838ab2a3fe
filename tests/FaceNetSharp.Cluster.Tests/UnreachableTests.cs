using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FaceNetSharp.Cluster.Tests;

/// <summary>A cluster whose PostgreSQL does not answer: a clear error within the bounded time, for the library and the CLI.</summary>
public sealed class UnreachableTests
{
    /// <summary>A loopback port nothing listens on (bound and released).</summary>
    private static int ClosedPort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        int port = ((IPEndPoint)socket.LocalEndpoint).Port;
        socket.Stop();
        return port;
    }

    [Fact]
    public async Task Opening_a_cluster_whose_postgresql_is_down_fails_clearly_and_quickly()
    {
        var conn = $"Host=127.0.0.1;Port={ClosedPort()};Username=facenet;Database=facenet";
        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ClusterUnavailableException>(() => ClusterGallery.OpenAsync(conn, Synthetic.Model, Synthetic.Dimensions));
        Assert.StartsWith("cannot reach PostgreSQL at 127.0.0.1:", e.Message);
        Assert.Contains("cluster.sh up", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(ClusterDatabase.ConnectTimeoutSeconds + 5), $"took {watch.Elapsed}");
    }

    [Theory]
    [InlineData("gallery", "list")]
    [InlineData("gallery", "remove", "someone")]
    [InlineData("silo")]
    public void The_cli_says_postgresql_is_unreachable_in_one_line_with_exit_code_2(params string[] command)
    {
        var conn = $"Host=127.0.0.1;Port={ClosedPort()};Username=facenet;Database=facenet";
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "facenet.dll"));
        foreach (var a in command) start.ArgumentList.Add(a);
        start.Environment["FACENET_CLUSTER"] = conn; // the variable, as cluster.sh prints it
        var watch = Stopwatch.StartNew();
        var (code, text) = ClusterFixture.Run(start, TimeSpan.FromSeconds(60));
        Assert.Equal(2, code);
        Assert.Contains("error: cannot reach PostgreSQL at 127.0.0.1:", text);
        Assert.DoesNotContain("   at ", text); // no stack trace
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }
}
