using System.Diagnostics;

namespace FaceNetSharp.Tests.Cli;

/// <summary>
/// Runs the built <c>facenet</c> as a real process (dotnet facenet.dll), with stdout and stderr apart, as a shell
/// or a script sees them. A run past its time limit is killed and fails the test: a hang is a finding.
/// </summary>
internal static class CliProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Both => Stdout + Stderr;
    }

    public static Result Run(string[] args, TimeSpan? timeout = null, string? asUser = null, IReadOnlyDictionary<string, string>? env = null)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "facenet.dll");
        ProcessStartInfo psi;
        if (asUser is null)
        {
            psi = new ProcessStartInfo("dotnet");
        }
        else
        {
            // setpriv (util-linux) drops to the user's ids; the dotnet host and the test build must be readable by it
            psi = new ProcessStartInfo("setpriv");
            foreach (var a in new[] { $"--reuid={asUser}", $"--regid={asUser}", "--clear-groups", "dotnet" }) psi.ArgumentList.Add(a);
        }
        psi.ArgumentList.Add(cli);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromSeconds(90);
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Assert.Fail($"facenet {string.Join(' ', args)} did not finish in {limit.TotalSeconds:F0} s (killed); stdout: {stdout.Result}; stderr: {stderr.Result}");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>True when this process runs as root and setpriv is there to run a child as another user.</summary>
    public static bool CanRunAsOtherUser() =>
        Environment.UserName == "root" && File.Exists("/usr/bin/setpriv");
}
