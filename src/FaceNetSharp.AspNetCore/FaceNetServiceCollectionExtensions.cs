using FaceNetSharp.Recognition;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FaceNetSharp.AspNetCore;

/// <summary>Registers the face pipeline in an ASP.NET Core application's services.</summary>
public static class FaceNetServiceCollectionExtensions
{
    /// <summary>
    /// Registers, as singletons, the <see cref="FaceRecognizer"/> (the default models from the model store, installed
    /// at start when missing), the <see cref="FaceGallery"/> (<see cref="FaceNetOptions.GalleryPath"/>) and the
    /// <see cref="InferenceGate"/> that admits the API's work; <see cref="FaceNetEndpointRouteBuilderExtensions.MapFaceNetApi"/>
    /// maps the endpoints that use them. They are opened when the application starts (a missing gallery path or a
    /// gallery of another model fails the start, not the first request) and disposed when it stops.
    /// <code>
    /// builder.Services.AddFaceNet(o => o.GalleryPath = "people.db");
    /// </code>
    /// To compose the pipeline yourself, register your own <see cref="FaceRecognizer"/> (and/or <see cref="FaceGallery"/>)
    /// as a singleton, before or after this call; that one is used instead:
    /// <code>
    /// builder.Services.AddSingleton(_ => new FaceRecognizer(myDetector, myEmbedder));
    /// </code>
    /// The API's gallery is the <see cref="IFaceGallery"/> singleton: one the application registers, else the one
    /// <see cref="FaceNetOptions.OpenGallery"/> opens (e.g. a cluster gallery), else the <see cref="FaceGallery"/>.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets the options (models, gallery, limits); may be null to keep the defaults.</param>
    /// <returns><paramref name="services"/>, to chain calls.</returns>
    public static IServiceCollection AddFaceNet(this IServiceCollection services, Action<FaceNetOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<FaceNetOptions>();
        if (configure is not null) options.Configure(configure);
        options.Validate(o =>
        {
            o.Validate();
            return true;
        });

        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<FaceNetOptions>>().Value;
            if (o.TrimMemory) MemoryTrimmer.ConfigureAllocator(); // before the sessions' threads allocate
            return FaceRecognizer.Open(o.Model, o.ModelsDirectory, o.Detection, o.Embedding, o.ModelLog);
        });
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<FaceNetOptions>>().Value;
            if (string.IsNullOrWhiteSpace(o.GalleryPath))
                throw new InvalidOperationException(
                    "FaceNetOptions.GalleryPath is not set: AddFaceNet(o => o.GalleryPath = \"people.db\") names the gallery's SQLite file " +
                    "(or register a FaceGallery of your own).");
            var info = sp.GetRequiredService<FaceRecognizer>().Model;
            return FaceGallery.Open(o.GalleryPath, info.Name, info.Dimensions, info.Metric);
        });
        services.TryAddSingleton<IFaceGallery>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<FaceNetOptions>>().Value;
            if (o.OpenGallery is { } open)
                return open(sp.GetRequiredService<FaceRecognizer>().Model)
                    ?? throw new InvalidOperationException("FaceNetOptions.OpenGallery returned null");
            // the SQLite gallery's own singleton (it is disposed by its registration; a second disposal does nothing)
            return sp.GetRequiredService<FaceGallery>();
        });
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<FaceNetOptions>>().Value;
            return new InferenceGate(o.MaxConcurrency, o.QueueTimeout, o.MaxPixelsInFlight);
        });
        services.TryAddSingleton(sp => new FaceService(sp.GetRequiredService<FaceRecognizer>(), sp.GetRequiredService<IFaceGallery>(),
            sp.GetRequiredService<InferenceGate>(), sp.GetRequiredService<IOptions<FaceNetOptions>>().Value));
        services.TryAddSingleton<FaceNetStartup>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, FaceNetStartup>(sp => sp.GetRequiredService<FaceNetStartup>()));
        return services;
    }
}

/// <summary>
/// Opens the pipeline when the application starts (models, gallery, gate), so that a bad configuration fails the
/// start rather than the first request, and runs the <see cref="MemoryTrimmer"/> while it is up.
/// </summary>
internal sealed class FaceNetStartup(IServiceProvider services, IOptions<FaceNetOptions> options) : IHostedService, IDisposable
{
    /// <summary>What gives memory back when the API goes idle; null before the start, or when turned off.</summary>
    public MemoryTrimmer? Trimmer { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var service = services.GetRequiredService<FaceService>();
        if (options.Value.TrimMemory && MemoryTrimmer.Enabled && Trimmer is null) Trimmer = new MemoryTrimmer(service.Gate);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        Trimmer?.Dispose();
        Trimmer = null;
    }
}
