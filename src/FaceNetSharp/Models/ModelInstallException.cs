namespace FaceNetSharp.Models;

/// <summary>A model could not be installed or loaded; the message says what to do.</summary>
public sealed class ModelInstallException : Exception
{
    public ModelInstallException(string message) : base(message) { }
    public ModelInstallException(string message, Exception inner) : base(message, inner) { }
}
