"""facenet-pytorch's MTCNN (the anchor of issue 13) timed on the photos bench/align-vs-facenet-pytorch.sh gives
`facenet align`: the LFW tree batched by 16, and every 1080p frame with keep_all=True (one image per call).
In-process timing after a warm-up, model load excluded, as /work/shared/anchors/facenet-pytorch/anchor_mtcnn.py does.
usage: align_anchor.py FACENET_PYTORCH_PARENT LFW_TREE FRAMES_DIR THREADS
Prints one JSON line: lfw_img_s, frame_img_s, CPU ms per image of each (process time, all threads), frame_faces (on the first frame), peak_rss_mb."""
import glob, json, os, resource, sys, time

sys.path.insert(0, sys.argv[1])
import torch
from PIL import Image
from facenet_pytorch.models.mtcnn import MTCNN

lfw_dir, frames_dir, threads = sys.argv[2], sys.argv[3], int(sys.argv[4])
torch.set_num_threads(threads)
lfw = [Image.open(f).convert("RGB") for f in sorted(glob.glob(os.path.join(lfw_dir, "*", "*.jpg")))]
frames = [Image.open(f).convert("RGB") for f in sorted(glob.glob(os.path.join(frames_dir, "*", "*.jpg")))]
# the settings: MTCNN(image_size=160, margin=32, post_process=False)
m = MTCNN(image_size=160, margin=32, post_process=False, device="cpu")
mk = MTCNN(image_size=160, margin=32, post_process=False, keep_all=True, device="cpu")

def batched():
    for i in range(0, len(lfw), 16):
        m(lfw[i:i + 16])

def each_frame():
    for f in frames:
        mk(f)

m(lfw[:16]); mk(frames[0])  # warm-up
t, c = time.perf_counter(), time.process_time(); batched(); t_lfw, c_lfw = time.perf_counter() - t, time.process_time() - c
t, c = time.perf_counter(), time.process_time(); each_frame(); t_frame, c_frame = time.perf_counter() - t, time.process_time() - c
print(json.dumps({"lfw_images": len(lfw), "lfw_img_s": len(lfw) / t_lfw, "frames": len(frames),
                  "frame_img_s": len(frames) / t_frame,
                  "lfw_cpu_ms_per_img": 1000 * c_lfw / len(lfw), "frame_cpu_ms_per_img": 1000 * c_frame / len(frames), "frame_faces": len(mk.detect(frames[0])[0]),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "torch": torch.__version__, "threads": torch.get_num_threads()}))
