using FaceNetSharp.Testing;

namespace FaceNetSharp.Server.Tests;

/// <summary>Photos used by the server tests (all real, from ../shared/data/faces).</summary>
internal static class Photos
{
    public static string Hopkins1 => TestPaths.Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0001.jpg");
    public static string Hopkins2 => TestPaths.Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0002.jpg");
    public static string Obama => TestPaths.Shared("faces", "face_recognition-examples", "examples", "obama.jpg");
    public static string Biden => TestPaths.Shared("faces", "face_recognition-examples", "examples", "biden.jpg");
    public static string TwoPeople => TestPaths.Shared("faces", "face_recognition-examples", "examples", "two_people.jpg");

    /// <summary>face-api.js's example set: 150x150 grey PNGs of eight people, several each.</summary>
    public static string Character(string name, int index) =>
        TestPaths.Shared("faces", "face-api-js-images", "examples", "images", name, $"{name}{index}.png");

    public static readonly string[] Characters = ["amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"];
}
