namespace FaceNetSharp.Models;

/// <summary>
/// A model could not be installed or loaded, or gave output no result can come from (NaN or infinity); the message
/// names the model and says what is wrong. <see cref="Problem"/> and <see cref="ModelPath"/> let a program add what
/// its user can do about it (the <c>facenet</c> CLI prints the command that repairs it).
/// </summary>
public sealed class ModelInstallException : Exception
{
    /// <summary>A failure of no particular <see cref="ModelProblem"/>.</summary>
    public ModelInstallException(string message) : base(message) { }

    /// <summary>A failure caused by <paramref name="inner"/>.</summary>
    public ModelInstallException(string message, Exception inner) : base(message, inner) { }

    /// <summary>A failure of the kind <paramref name="problem"/>, about the file or folder <paramref name="modelPath"/>.</summary>
    public ModelInstallException(string message, ModelProblem problem, string? modelPath, Exception? inner = null)
        : base(message, inner)
    {
        Problem = problem;
        ModelPath = modelPath;
    }

    /// <summary>What is wrong, for a program that tells its user what to do.</summary>
    public ModelProblem Problem { get; }

    /// <summary>The model file concerned (for <see cref="ModelProblem.NotInstalled"/>: the store's folder); null when none.</summary>
    public string? ModelPath { get; }
}

/// <summary>The kinds of <see cref="ModelInstallException"/> a program may answer with a remedy.</summary>
public enum ModelProblem
{
    /// <summary>Anything else (an unknown model name, a bad card field, an install that failed, NaN output).</summary>
    Other,

    /// <summary>A store has no such model installed and no installer (<see cref="ModelStore.Installer"/>).</summary>
    NotInstalled,

    /// <summary>The model file does not exist.</summary>
    FileMissing,

    /// <summary>The file differs from its card, its card cannot be read, or ONNX Runtime cannot load it.</summary>
    Damaged,
}
