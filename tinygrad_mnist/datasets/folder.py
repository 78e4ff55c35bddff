"""``ImageFolder`` and ``DatasetFolder``, like torchvision's: one sub-folder per class.

    root/ants/001.png            classes = sorted sub-folder names: ["ants", "bees"]
    root/ants/more/002.jpg       class_to_idx = {"ants": 0, "bees": 1}
    root/bees/003.png            samples = [(path, class index), ...], in sorted order

Each class folder is walked recursively (following symbolic links), its file names sorted within
each folder; a file counts when its extension is one of ``IMG_EXTENSIONS`` (case-insensitive),
or, given ``is_valid_file``, when that says so. A class folder with no such file is an error
naming it, unless ``allow_empty``. Images are read with PIL and converted to RGB.
"""
from __future__ import annotations

import os

from ..utils.data import Dataset

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "default_loader", "pil_loader",
           "find_classes", "make_dataset", "has_file_allowed_extension", "is_image_file"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename, extensions):
    """Whether ``filename`` ends with one of ``extensions`` (a string or a tuple), any case."""
    if isinstance(extensions, str):
        extensions = (extensions,)
    return filename.lower().endswith(tuple(e.lower() for e in extensions))


def is_image_file(filename):
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory):
    """``(classes, class_to_idx)``: the sorted names of the sub-folders of ``directory``."""
    with os.scandir(directory) as entries:
        classes = sorted(entry.name for entry in entries if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None,
                 allow_empty=False):
    """The ``(path, class index)`` pairs under ``directory``, in sorted order (module docstring).

    Exactly one of ``extensions`` and ``is_valid_file`` must be given.
    """
    directory = os.path.expanduser(os.fspath(directory))
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the "
                         "same time")
    if is_valid_file is None:
        def is_valid_file(path):
            return has_file_allowed_extension(path, extensions)

    instances, found = [], set()
    for target_class in sorted(class_to_idx):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for folder, _, fnames in sorted(os.walk(target_dir, followlinks=True)):
            for fname in sorted(fnames):
                path = os.path.join(folder, fname)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    found.add(target_class)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        message = f"Found no valid file for the classes {', '.join(sorted(empty))}"
        if extensions is not None:
            kinds = extensions if isinstance(extensions, str) else ", ".join(extensions)
            message += f". Supported extensions are: {kinds}"
        raise FileNotFoundError(f"{message} (under {directory})")
    return instances


def pil_loader(path):
    """The image at ``path`` as an RGB PIL image; an unreadable file is an error naming it."""
    from PIL import Image, UnidentifiedImageError
    with open(path, "rb") as f:
        try:
            img = Image.open(f)
            return img.convert("RGB")
        except UnidentifiedImageError as exc:
            raise UnidentifiedImageError(f"cannot identify image file {path}") from exc
        except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged image data
            raise OSError(f"cannot read image file {path}: {exc}") from exc


default_loader = pil_loader


class DatasetFolder(Dataset):
    """Samples in class sub-folders of ``root``, each read by ``loader(path)``.

    Attributes: ``classes``, ``class_to_idx``, ``samples`` (path, class index), ``targets``
    (the class indices), ``extensions``, ``loader``.
    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None,
                 is_valid_file=None, allow_empty=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.transform = transform
        self.target_transform = target_transform
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx, extensions, is_valid_file,
                                    allow_empty=allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.samples = samples
        self.targets = [s[1] for s in samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty=False):
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def find_classes(self, directory):
        return find_classes(directory)

    def __getitem__(self, index):
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self):
        return len(self.samples)

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}"]
        if self.transform is not None:
            lines.append("    Transform: " + repr(self.transform).replace("\n", "\n    "))
        return "\n".join(lines)


class ImageFolder(DatasetFolder):
    """Images in class sub-folders of ``root`` (see module docstring), like torchvision's.

    Args:
        root: the folder of class folders.
        transform: applied to each image (an RGB PIL image from the default loader).
        target_transform: applied to each class index.
        loader: reads a path (default: PIL, converted to RGB).
        is_valid_file: ``path -> bool``; replaces the extension test.
        allow_empty: allow class folders with no valid file.

    Attributes: ``classes``, ``class_to_idx``, ``samples`` and ``imgs`` (path, class index),
    ``targets``.
    """

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
