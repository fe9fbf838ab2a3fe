using System.CommandLine;

var root = new RootCommand("FaceNetSharp: face detection, alignment and recognition (facenet in C#)");
return root.Parse(args).Invoke();
