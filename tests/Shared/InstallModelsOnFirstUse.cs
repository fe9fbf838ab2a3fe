using System.Runtime.CompilerServices;
using FaceNetSharp.Models;

namespace FaceNetSharp.Testing;

/// <summary>
/// The test assemblies install the default models on first use, as the CLI does (the library itself never does:
/// <see cref="ModelStore.DefaultInstaller"/> is null until a program sets it).
/// </summary>
internal static class InstallModelsOnFirstUse
{
    [ModuleInitializer]
    internal static void Register() => ModelInstaller.UseAsDefault();
}
