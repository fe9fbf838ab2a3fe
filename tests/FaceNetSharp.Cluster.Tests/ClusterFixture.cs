using System.Diagnostics;
using System.Text;

namespace FaceNetSharp.Cluster.Tests;

/// <summary>
/// A real cluster on 127.0.0.1 for the tests of one collection: PostgreSQL and silos started by
/// <c>scripts/cluster.sh up DIR 3</c> as processes (the CLI built beside the tests), stopped by <c>down</c>.
/// </summary>
public sealed class ClusterFixture : IDisposable
{
    public const int Silos = 3;

    public ClusterFixture()
    {
        Dir = Directory.CreateTempSubdirectory("facenet-cluster-test-").FullName;
        // others (the PostgreSQL user) must enter the folder
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        Available = File.Exists("/usr/local/bin/initdb") || File.Exists("/usr/bin/initdb") ||
            Directory.Exists("/usr/lib/postgresql") && Directory.EnumerateFiles("/usr/lib/postgresql", "initdb", SearchOption.AllDirectories).Any();
        if (!Available) return;
        Connection = Up();
    }

    /// <summary>False where PostgreSQL is not installed (the tests skip).</summary>
    public bool Available { get; }

    public string Dir { get; }

    public string Connection { get; private set; } = "";

    /// <summary><c>cluster.sh up DIR 3</c>; returns the connection string of its last line.</summary>
    public string Up()
    {
        var (code, output) = Script("up", Dir, Silos.ToString());
        if (code != 0) throw new InvalidOperationException($"cluster.sh up failed ({code}):\n{output}");
        var last = output.TrimEnd().Split('\n')[^1];
        if (!last.StartsWith("FACENET_CLUSTER=", StringComparison.Ordinal)) throw new InvalidOperationException($"cluster.sh up's last line is '{last}'");
        return Connection = last["FACENET_CLUSTER=".Length..];
    }

    public void Down()
    {
        var (code, output) = Script("down", Dir);
        if (code != 0) throw new InvalidOperationException($"cluster.sh down failed ({code}):\n{output}");
    }

    /// <summary>The process id of silo N (1-based), from DIR/silo-N.pid.</summary>
    public int SiloPort(int n) => int.Parse(File.ReadAllText(Path.Combine(Dir, $"silo-{n}.port")).Trim());

    public int SiloPid(int n) => int.Parse(File.ReadAllText(Path.Combine(Dir, $"silo-{n}.pid")).Trim());

    public static (int Code, string Output) Script(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(TestPaths.RepoRoot, "scripts", "cluster.sh"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["FACENET"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "facenet.dll")}";
        return Run(start, TimeSpan.FromMinutes(3));
    }

    /// <summary>Runs a process to its end (killed after <paramref name="limit"/>); stdout and stderr together.</summary>
    public static (int Code, string Output) Run(ProcessStartInfo start, TimeSpan limit)
    {
        var output = new StringBuilder();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} ran past {limit}:\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    public void Dispose()
    {
        if (!Available) return;
        try { Down(); } catch (Exception) { /* best effort: the processes may already be gone */ }
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
