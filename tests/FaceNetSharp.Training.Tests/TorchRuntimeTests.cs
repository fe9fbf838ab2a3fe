using System.Diagnostics;
using FaceNetSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Tests;

public sealed class TorchRuntimeTests
{
    public TorchRuntimeTests() => TorchTest.Init();

    [Fact]
    public void Omp_wait_policy_is_in_the_native_environment()
    {
        var v = TorchRuntime.NativeGetEnv("OMP_WAIT_POLICY");
        Assert.NotNull(v);
        // A value set by whoever started the test run is kept; otherwise ours.
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null or "PASSIVE")
            Assert.Equal("PASSIVE", v);
    }

    [Fact]
    public void Libtorch_loads_and_runs_a_conv()
    {
        using var scope = NewDisposeScope();
        // 1x1x3x3 input 1..9, a 2x2 kernel of ones, bias 0.5: each output is the sum of a 2x2 window + 0.5.
        var x = arange(1f, 10f).reshape(1, 1, 3, 3);
        var w = ones(1, 1, 2, 2);
        var b = tensor(new[] { 0.5f });
        var y = nn.functional.conv2d(x, w, b);
        Assert.Equal(new long[] { 1, 1, 2, 2 }, y.shape);
        Assert.Equal(new[] { 12.5f, 16.5f, 24.5f, 28.5f }, y.data<float>().ToArray());
    }

    [SkippableFact]
    public void Copied_libLibTorchSharp_has_the_glibcxx_3_4_32_need_marked_weak_when_the_system_lacks_it()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the patch is Linux-only");
        const string sys = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
        Skip.IfNot(File.Exists(sys), sys + " is absent");
        var systemHas = File.ReadAllBytes(sys).AsSpan().IndexOf("GLIBCXX_3.4.32\0"u8) >= 0;
        Skip.If(systemHas, "the system libstdc++ has GLIBCXX_3.4.32: no patch is made");
        var so = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).Single();
        var flags = ElfVersionNeedFlags(so, "GLIBCXX_3.4.32");
        Assert.True((flags & 0x2) != 0, $"VER_FLG_WEAK not set on GLIBCXX_3.4.32 in {so} (flags {flags})");
    }

    /// <summary>Reads vna_flags of the named version need with readelf (binutils); skips when readelf is absent.</summary>
    private static int ElfVersionNeedFlags(string path, string version)
    {
        ProcessStartInfo psi = new("readelf", ["-V", path]) { RedirectStandardOutput = true, UseShellExecute = false };
        Process? p = null;
        try { p = Process.Start(psi); }
        catch (System.ComponentModel.Win32Exception) { }
        Skip.If(p is null, "readelf is not installed");
        var text = p!.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = text.Split('\n').Single(l => l.Contains("Name: " + version + " "));
        // e.g. "  0x0140:   Name: GLIBCXX_3.4.32  Flags: WEAK  Version: 18"
        var f = line[(line.IndexOf("Flags:", StringComparison.Ordinal) + 6)..].Trim();
        f = f[..f.IndexOf(' ')];
        return f switch { "none" => 0, "WEAK" => 2, _ => f.Contains("WEAK", StringComparison.Ordinal) ? 2 : 1 };
    }
}

public sealed class TrainingDeviceTests
{
    public TrainingDeviceTests() => TorchTest.Init();

    [Fact]
    public void Cpu_is_accepted_and_unknown_devices_are_refused()
    {
        Assert.Equal(TorchSharp.DeviceType.CPU, FaceNetSharp.Training.Runs.TrainingDevice.Resolve("CPU").type);
        var e = Assert.Throws<ArgumentException>(() => FaceNetSharp.Training.Runs.TrainingDevice.Resolve("tpu"));
        Assert.Contains("--device tpu", e.Message);
    }

    [SkippableFact]
    public void Cuda_without_a_cuda_libtorch_is_a_clear_error()
    {
        Skip.If(TorchSharp.torch.cuda.is_available(), "this machine has CUDA");
        var e = Assert.Throws<ArgumentException>(() => FaceNetSharp.Training.Runs.TrainingDevice.Resolve("cuda"));
        Assert.Contains("libtorch's CUDA package", e.Message);
    }
}

public sealed class TrainingSeedTests
{
    /// <summary>
    /// The seeds are fixed numbers, the same in every process (values from an independent Python FNV-1a computation),
    /// so a resumed run repeats the uninterrupted run's shuffles; HashCode.Combine, used before, changes per process.
    /// </summary>
    [Fact]
    public void Seeds_are_the_same_in_every_process_and_differ_by_position()
    {
        Assert.Equal(1482606981, FaceNetSharp.Training.Runs.TrainingSeed.Of(666, 1));
        Assert.Equal(630608446, FaceNetSharp.Training.Runs.TrainingSeed.Of(666, 2));
        Assert.Equal(1950940411, FaceNetSharp.Training.Runs.TrainingSeed.Of(666, 1, 7));
    }
}
