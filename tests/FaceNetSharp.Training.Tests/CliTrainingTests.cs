using System.Diagnostics;
using System.Text;

namespace FaceNetSharp.Training.Tests;

/// <summary>
/// <c>facenet train</c> as a user runs it, in its own process: a kill (SIGTERM; Ctrl-C's SIGINT takes the same path, but
/// a background parent such as a CI shell may leave SIGINT ignored in its children) stops the run after the current batch
/// and prints the <c>--resume</c> command; that command continues at the next epoch; <c>facenet train
/// export</c> writes a checkpoint as ONNX.
/// </summary>
public sealed class CliTrainingTests
{
    private sealed class Cli : IDisposable
    {
        private readonly Process process;
        private readonly StringBuilder output = new();

        public Cli(params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add(CliLibtorchTests.CliDll());
            foreach (var a in args) psi.ArgumentList.Add(a);
            process = Process.Start(psi)!;
            process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public int Id => process.Id;

        public string Output { get { lock (output) return output.ToString(); } }

        public int Wait(TimeSpan limit)
        {
            if (!process.WaitForExit(limit)) { process.Kill(entireProcessTree: true); Assert.Fail($"facenet did not finish in {limit}:\n{Output}"); }
            process.WaitForExit();
            return process.ExitCode;
        }

        public void Dispose()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
    }

    [SkippableFact]
    public void A_killed_run_stops_cleanly_then_resumes_at_the_next_epoch_and_exports()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "sends SIGTERM with kill(1)");
        var root = Directory.CreateTempSubdirectory("fns-cli-train-");
        try
        {
            var data = TrainerTests.SmallDataset(root, 4, 8);
            var models = Path.Combine(root.FullName, "models");
            using (var run = new Cli("train", "softmax", "--data-dir", data, "--model-def", "mobilefacenet", "--image-size", "112",
                       "--embedding-size", "32", "--batch-size", "8", "--epoch-size", "3", "--max-nrof-epochs", "100", "--optimizer", "ADAM",
                       "--learning-rate", "0.005", "--use-fixed-image-standardization", "--logs-base-dir", Path.Combine(root.FullName, "logs"),
                       "--models-base-dir", models))
            {
                var deadline = DateTime.UtcNow.AddMinutes(3);
                while (!Directory.Exists(models) || !Directory.EnumerateFiles(models, "state.json", SearchOption.AllDirectories).Any())
                {
                    Assert.True(DateTime.UtcNow < deadline, "no checkpoint after 3 minutes:\n" + run.Output);
                    Thread.Sleep(200);
                }
                using (var kill = Process.Start("kill", ["-TERM", run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
                Assert.Equal(130, run.Wait(TimeSpan.FromMinutes(2)));
                var runDir = Directory.GetDirectories(models).Single();
                Assert.Contains($"facenet train softmax --resume {runDir}", run.Output);
                Assert.DoesNotContain("Exported", run.Output);
            }

            var dir = Directory.GetDirectories(models).Single();
            Assert.Empty(Directory.GetDirectories(dir, "*.tmp-*"));    // nothing half-written is left as a checkpoint
            int done = Directory.GetDirectories(dir, "checkpoint-*").Length;
            using (var resume = new Cli("train", "softmax", "--resume", dir, "--max-nrof-epochs", (done + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)))
            {
                Assert.Equal(0, resume.Wait(TimeSpan.FromMinutes(3)));
                Assert.Contains($"Resuming {Path.GetFileName(dir)} after epoch {done}", resume.Output);
                Assert.Contains($"Epoch {done + 1}: loss", resume.Output);
                Assert.DoesNotContain($"Epoch {done}: loss", resume.Output);
            }
            Assert.True(File.Exists(Path.Combine(dir, Path.GetFileName(dir) + ".onnx")));

            using (var export = new Cli("train", "export", Path.Combine(dir, "checkpoint-0001")))
            {
                Assert.Equal(0, export.Wait(TimeSpan.FromMinutes(2)));
                var onnx = Path.Combine(dir, Path.GetFileName(dir) + "-0001.onnx");
                Assert.True(File.Exists(onnx), export.Output);
                Assert.True(File.Exists(Path.ChangeExtension(onnx, ".card.json")));
            }
            using (var bad = new Cli("train", "export", data))
            {
                Assert.Equal(2, bad.Wait(TimeSpan.FromMinutes(2)));
                Assert.Contains("neither a checkpoint folder nor a run folder", bad.Output);
            }
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
