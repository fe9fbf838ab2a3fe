using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Runs;

/// <summary>
/// The device training runs on. This build references libtorch's CPU package (<c>libtorch-cpu-linux-x64</c>, see
/// Directory.Packages.props); CUDA needs libtorch's CUDA package in its place and a GPU. The trainer moves the
/// network, the classifier and every batch to the device, reads results back with <c>cpu()</c> and exports from the
/// CPU. Only the CPU path has been run: no CUDA libtorch package is served to this project and it has no GPU.
/// </summary>
public static class TrainingDevice
{
    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> and checks that libtorch can use it.</summary>
    public static Device Resolve(string? name)
    {
        var value = (name ?? "cpu").Trim().ToLowerInvariant();
        if (value == "cpu") return CPU;
        if (value != "cuda" && !value.StartsWith("cuda:", StringComparison.Ordinal))
            throw new ArgumentException($"--device {name}: use cpu, cuda or cuda:N");
        if (!cuda.is_available())
            throw new ArgumentException($"--device {name}: libtorch reports no CUDA device. This build carries libtorch's CPU package; " +
                "CUDA training needs libtorch's CUDA package (libtorch-cuda-12.8-linux-x64) in its place and an NVIDIA GPU with its driver.");
        int index = value == "cuda" ? 0 : int.Parse(value[5..], System.Globalization.CultureInfo.InvariantCulture);
        if (index >= cuda.device_count())
            throw new ArgumentException($"--device {name}: only {cuda.device_count()} CUDA device(s)");
        return new Device(DeviceType.CUDA, index);
    }
}
