using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Runs;

/// <summary>
/// Exponential moving averages of the trainable weights, as facenet.train keeps them:
/// <c>tf.train.ExponentialMovingAverage(moving_average_decay, global_step)</c>, whose update after each step is
/// <c>shadow -= (1 - d) * (shadow - weight)</c> with <c>d = min(decay, (1 + step) / (10 + step))</c> (TensorFlow's
/// num_updates rule). facenet saves and evaluates the raw weights; with <c>--use-moving-averages</c> the trainer
/// evaluates and exports these averages instead (see <see cref="Apply"/>). Owns its shadow tensors.
/// </summary>
internal sealed class MovingAverages : IDisposable
{
    private readonly Parameter[] parameters;
    private readonly Tensor[] shadows;

    public MovingAverages(IReadOnlyList<Parameter> parameters, double decay)
    {
        if (decay is <= 0 or >= 1) throw new ArgumentException($"--moving-average-decay {decay} must be in (0, 1) to keep averages");
        this.parameters = [.. parameters];
        Decay = decay;
        using var _ = no_grad();
        shadows = [.. this.parameters.Select(p => p.detach().clone())];
    }

    public double Decay { get; }

    /// <summary>TensorFlow's effective decay at <paramref name="step"/> updates: min(decay, (1 + step) / (10 + step)).</summary>
    public static double DecayAt(double decay, long step) => Math.Min(decay, (1.0 + step) / (10.0 + step));

    /// <summary>One update after optimiser step number <paramref name="step"/> (the global step before it was counted).</summary>
    public void Update(long step)
    {
        double d = DecayAt(Decay, step);
        using var _ = no_grad();
        for (int i = 0; i < shadows.Length; i++) shadows[i].lerp_(parameters[i], 1 - d);    // s += (1 - d)(w - s)
    }

    /// <summary>The shadow values, in parameter order (for tests).</summary>
    public IReadOnlyList<Tensor> Shadows => shadows;

    /// <summary>Makes the shadows equal to the weights as they are now (after loading averaged weights into the modules).</summary>
    public void CaptureCurrent()
    {
        using var _ = no_grad();
        for (int i = 0; i < shadows.Length; i++) shadows[i].copy_(parameters[i]);
    }

    /// <summary>
    /// Puts the averages into the weights until the returned handle is disposed, which puts the raw weights and the
    /// buffers of <paramref name="modules"/> (batch-norm statistics) back as they were.
    /// </summary>
    public IDisposable Apply(params nn.Module[] modules)
    {
        using var _ = no_grad();
        var raw = parameters.Select(p => p.detach().clone()).ToArray();
        var buffers = modules.SelectMany(m => m.buffers()).ToArray();
        var savedBuffers = buffers.Select(b => b.clone()).ToArray();
        for (int i = 0; i < shadows.Length; i++) parameters[i].copy_(shadows[i]);
        return new Restorer(() =>
        {
            using var __ = no_grad();
            for (int i = 0; i < raw.Length; i++) { parameters[i].copy_(raw[i]); raw[i].Dispose(); }
            for (int i = 0; i < buffers.Length; i++) { buffers[i].copy_(savedBuffers[i]); savedBuffers[i].Dispose(); }
        });
    }

    public void Dispose()
    {
        foreach (var s in shadows) s.Dispose();
    }

    private sealed class Restorer(Action restore) : IDisposable
    {
        private Action? restore = restore;

        public void Dispose()
        {
            restore?.Invoke();
            restore = null;
        }
    }
}
