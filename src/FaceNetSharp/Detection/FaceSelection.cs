namespace FaceNetSharp.Detection;

/// <summary>Choosing one face when a photo is expected to show one person.</summary>
public static class FaceSelection
{
    /// <summary>
    /// The face facenet's align_dataset_mtcnn.py keeps when several are found: the largest box, penalised by twice
    /// the squared distance of its centre from the image centre (<c>argmax(area - 2 * offset²)</c>).
    /// Returns -1 for an empty list.
    /// </summary>
    public static int PickCentralLargest(IReadOnlyList<DetectedFace> faces, int imageWidth, int imageHeight)
    {
        int best = -1;
        double bestValue = double.NegativeInfinity;
        for (int i = 0; i < faces.Count; i++)
        {
            var b = faces[i].Box;
            double size = (double)(b.X2 - b.X1) * (b.Y2 - b.Y1);
            double ox = (b.X1 + b.X2) / 2.0 - imageWidth / 2.0;
            double oy = (b.Y1 + b.Y2) / 2.0 - imageHeight / 2.0;
            double value = size - (ox * ox + oy * oy) * 2.0;
            if (value > bestValue) { bestValue = value; best = i; }
        }
        return best;
    }

    /// <summary>The index of the face with the largest box area (-1 for none).</summary>
    public static int PickLargest(IReadOnlyList<DetectedFace> faces)
    {
        int best = -1;
        float bestArea = -1;
        for (int i = 0; i < faces.Count; i++)
            if (faces[i].Box.Area > bestArea) { bestArea = faces[i].Box.Area; best = i; }
        return best;
    }
}
