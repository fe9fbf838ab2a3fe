using FaceNetSharp.AspNetCore;

var builder = WebApplication.CreateBuilder(args);
// The recognizer (default models, installed on first start), the gallery and the inference gate, as singletons.
builder.Services.AddFaceNet(o => o.GalleryPath = builder.Configuration["FaceNet:GalleryPath"] ?? "gallery.db");
var app = builder.Build();
app.MapGet("/", () => "POST images to /v1/detect, /v1/embed, /v1/verify (image1, image2), /v1/identify; enrol at /v1/gallery/{name}");
app.MapFaceNetApi("/v1");
app.Run();
