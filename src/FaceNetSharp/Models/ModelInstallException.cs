namespace FaceNetSharp.Models;

/// <summary>
/// A model could not be installed or loaded, or gave output no result can come from (NaN or infinity); the message
/// names the model and says what to do.
/// </summary>
public sealed class ModelInstallException : Exception
{
    public ModelInstallException(string message) : base(message) { }
    public ModelInstallException(string message, Exception inner) : base(message, inner) { }
}
