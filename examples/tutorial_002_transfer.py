"""Seed 002's last section, "Transfer model": a pretrained ResNet-18, fine-tuned or frozen, on an ImageFolder.

Read it beside /work/shared/seeds/002_86f17419b2a70d18.txt (its section "Transfer model"), in its
order: the data transforms and ``ImageFolder`` loaders, ``resnet18`` with a new ``fc``,
``CrossEntropyLoss``, ``SGD(lr=0.001, momentum=0.9)``, ``StepLR(step_size=7, gamma=0.1)``, the
tutorial's own ``train_model`` (a train and a val phase each epoch, ``copy.deepcopy`` of the best
``state_dict``, loaded back at the end), then the frozen-features variant (``requires_grad =
False`` on the body, only the new ``fc`` trained).

The tutorial starts from torchvision's ImageNet weights and the ants/bees photos. This machine has
neither (no internet), so by default the script makes both:

* its "ImageNet": digits 0-4 of MNIST (500 training images a digit by default), rendered as
  small RGB images (each digit's strokes in a random colour on black) and written as PNG files
  into class folders, on which it pretrains its own ResNet-18 with the same ``train_model`` and
  saves it (``tg.save``, safetensors). The pretraining recipe is ours (the tutorial has none):
  batch 32, ``SGD(lr=0.01, momentum=0.9)``, random crops of at least half the image, so that
  3 epochs give features worth transferring;
* its "ants and bees": digits 5-9 (100 training images a digit), rendered the same way into
  another ImageFolder tree, to which the pretrained network is transferred with the tutorial's
  recipe; 50 validation images a digit, from MNIST's test set, for both tasks;

and shows three results side by side: from scratch, fine-tuned, frozen features (best
validation accuracy and wall time). ``--weights PATH`` starts from torchvision's ``resnet18``
weights instead, converted with ``python -m tinygrad_mnist convert resnet18-f37072fd.pth
resnet18.safetensors`` (use ``--image-size 224`` then, as the tutorial does).

``--engine torch`` runs the same program on PyTorch: ``tg``, ``nn``, ``optim``, ``lr_scheduler``
and ``models`` are then ``torch``, ``torch.nn``, ``torch.optim``, ``torch.optim.lr_scheduler`` and
``reference.models`` (torch alone; torchvision is not installed). Both read the same image files
through tinygrad_mnist's ``datasets.ImageFolder`` and ``transforms`` (one last transform turns the
tensor into a torch tensor), whose randomness comes from tinygrad_mnist's generator, seeded the
same in both; each engine initialises its networks from its own generator.

What changed besides the imports and the data:

* the sizes: ``--image-size`` (32 here, 224 in the tutorial) scales the tutorial's
  ``RandomSizedCrop(224)`` / ``Scale(256)`` + ``CenterCrop(224)`` in the same ratio;
  ``nn.Linear(num_ftrs, 2)`` has ``len(class_names)`` (5) outputs;
* ``scheduler.step()`` is called after the epoch's optimizer steps, not before them (the order
  PyTorch wants since 1.1; the tutorial's order now warns and shifts the schedule by one epoch);
* ``loss.data[0]`` -> ``loss.item()`` (today's PyTorch refuses to index a 0-d tensor);
* ``train_model`` prints each phase's loss and accuracy and records them (the seed's copy computes
  ``time_elapsed`` and prints nothing); it reads the loaders from the globals ``dataloaders`` and
  ``dataset_sizes``, as the tutorial's does, so they are set before each call;
* ``num_workers=4`` is kept for tinygrad_mnist's loader (which accepts and ignores it); the torch
  engine loads in the main process (0 workers), since worker processes would copy
  tinygrad_mnist's generator and draw the same random crops;
* ``--epochs`` defaults to 3, not the tutorial's 25, so that a run takes minutes on 2 CPU cores.

    python examples/tutorial_002_transfer.py --epochs 3
    python examples/tutorial_002_transfer.py --epochs 3 --engine torch
"""
import argparse
import copy
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

import numpy as np  # noqa: E402

import tinygrad_mnist  # noqa: E402   the data side (images, transforms) in both engines
from tinygrad_mnist import datasets, transforms  # noqa: E402   from torchvision import datasets, transforms

# The engine, bound by use_engine(): import torch / torch.nn as nn / ... under these names.
tg = nn = optim = lr_scheduler = models = None
ENGINE = None
NUM_WORKERS = 4

PRETRAIN_DIGITS = (0, 1, 2, 3, 4)
TRANSFER_DIGITS = (5, 6, 7, 8, 9)


def use_engine(name):
    """Bind ``tg, nn, optim, lr_scheduler, models`` to one engine's modules."""
    global tg, nn, optim, lr_scheduler, models, ENGINE, NUM_WORKERS
    if name == "torch":
        import torch
        import torch.nn
        import torch.optim
        from torch.optim import lr_scheduler as torch_lr_scheduler
        from reference import models as torch_models
        tg, nn, optim, lr_scheduler, models = torch, torch.nn, torch.optim, torch_lr_scheduler, torch_models
        NUM_WORKERS = 0  # see the module docstring
    elif name == "tinygrad":
        import tinygrad_mnist.nn
        import tinygrad_mnist.optim
        from tinygrad_mnist.optim import lr_scheduler as tg_lr_scheduler
        from tinygrad_mnist import models as tg_models
        tg, nn, optim = tinygrad_mnist, tinygrad_mnist.nn, tinygrad_mnist.optim
        lr_scheduler, models = tg_lr_scheduler, tg_models
        NUM_WORKERS = 4
    else:
        raise ValueError(f"unknown engine {name!r}: choose tinygrad or torch")
    ENGINE = name


# ------------------------------------------------------------------ the image folders (ours)
def render_digits(images, rng, size):
    """(N, 28, 28) uint8 MNIST digits -> (N, size, size, 3) uint8 RGB: padded to 32x32, resized
    to ``size`` if it differs, the strokes in one random colour per image on black."""
    from PIL import Image
    out = np.empty((len(images), size, size, 3), np.uint8)
    colours = rng.uniform(0.35, 1.0, size=(len(images), 3))
    for i, img in enumerate(images):
        gray = np.pad(img, 2)
        if size != 32:
            gray = np.asarray(Image.fromarray(gray).resize((size, size), Image.BILINEAR))
        out[i] = np.round(gray[..., None] * colours[i]).astype(np.uint8)
    return out


def make_image_folders(mnist_dir, root, per_class, val_per_class, size, seed=0, pretrain_per_class=None):
    """Write ``root/{pretrain,transfer}/{train,val}/<digit>/<index>.png``: the first
    ``per_class`` training images (``pretrain_per_class`` for digits 0-4) and the first
    ``val_per_class`` test images of each digit. Kept when ``root/manifest.json`` says they were
    made with the same settings."""
    from PIL import Image
    root = Path(root)
    pretrain_per_class = per_class if pretrain_per_class is None else pretrain_per_class
    manifest = {"per_class": per_class, "pretrain_per_class": pretrain_per_class,
                "val_per_class": val_per_class, "size": size, "seed": seed,
                "pretrain": list(PRETRAIN_DIGITS), "transfer": list(TRANSFER_DIGITS)}
    if (root / "manifest.json").is_file() and json.loads((root / "manifest.json").read_text()) == manifest:
        return root
    rng = np.random.default_rng(seed)
    tmp = root.with_name(root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for split, train in (("train", True), ("val", False)):
        mnist = datasets.MNIST(mnist_dir, train=train)
        data, targets = mnist.data.numpy(), mnist.targets.numpy()
        for task, digits in (("pretrain", PRETRAIN_DIGITS), ("transfer", TRANSFER_DIGITS)):
            count = val_per_class if not train else pretrain_per_class if task == "pretrain" else per_class
            for digit in digits:
                index = np.flatnonzero(targets == digit)[:count]
                if len(index) < count:
                    raise ValueError(f"MNIST in {mnist_dir} has only {len(index)} {split} images of {digit}")
                folder = tmp / task / split / str(digit)
                folder.mkdir(parents=True)
                for j, rgb in zip(index, render_digits(data[index], rng, size)):
                    Image.fromarray(rgb, "RGB").save(folder / f"{j:05d}.png")
    (tmp / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(root, ignore_errors=True)
    os.replace(tmp, root)
    return root


# ------------------------------------------------------------------ the tutorial's data loading
def load_data(data_dir, image_size, batch_size, crop_scale=(0.08, 1.0)):
    """The tutorial's boilerplate: ``data_transforms``, ``image_datasets``, ``dataloaders``,
    ``dataset_sizes``, ``class_names`` for the ImageFolder trees ``data_dir/train`` and ``/val``.
    ``crop_scale``: the random crop's area range (torchvision's default, the tutorial's, for the
    transfer runs; the pretraining takes larger crops, see ``--pretrain-crop-scale``)."""
    resize = round(image_size * 256 / 224)  # the tutorial's Scale(256) before CenterCrop(224)
    to_engine = [] if ENGINE == "tinygrad" else [transforms.Lambda(lambda t: tg.from_numpy(t.numpy()))]
    data_transforms = {
        'train': transforms.Compose([
            transforms.RandomSizedCrop(image_size, scale=crop_scale),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            *to_engine,
        ]),
        'val': transforms.Compose([
            transforms.Scale(resize),
            transforms.CenterCrop(image_size),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            *to_engine,
        ]),
    }

    image_datasets = {x: datasets.ImageFolder(os.path.join(data_dir, x),
                                              data_transforms[x])
                      for x in ['train', 'val']}
    dataloaders = {x: tg.utils.data.DataLoader(image_datasets[x], batch_size=batch_size,
                                               shuffle=True, num_workers=NUM_WORKERS)
                   for x in ['train', 'val']}
    dataset_sizes = {x: len(image_datasets[x]) for x in ['train', 'val']}
    class_names = image_datasets['train'].classes
    return dataloaders, dataset_sizes, class_names


dataloaders, dataset_sizes = None, None  # the globals train_model reads, as in the tutorial
LAST_RUN = {}  # (ours) what the last train_model call saw, for the results table and --json


# ------------------------------------------------------------------ the tutorial's train_model
def train_model(model, criterion, optimizer, scheduler, num_epochs=25):
    since = time.time()

    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    history, best_epoch = [], None  # (ours)

    for epoch in range(num_epochs):
        print('Epoch {}/{}'.format(epoch, num_epochs - 1))  # (ours)
        # Each epoch has a training and validation phase
        for phase in ['train', 'val']:
            if phase == 'train':
                model.train(True)  # Set model to training mode
            else:
                model.train(False)  # Set model to evaluate mode

            running_loss = 0.0
            running_corrects = 0

            # Iterate over data.
            for data in dataloaders[phase]:
                # get the inputs
                inputs, labels = data

                # zero the parameter gradients
                optimizer.zero_grad()

                # forward
                outputs = model(inputs)
                _, preds = tg.max(outputs.data, 1)
                loss = criterion(outputs, labels)

                # backward + optimize only if in training phase
                if phase == 'train':
                    loss.backward()
                    optimizer.step()

                # statistics
                running_loss += loss.item() * inputs.size(0)
                running_corrects += tg.sum(preds == labels.data)

            if phase == 'train':
                scheduler.step()  # after the epoch's optimizer steps (the tutorial: before them)

            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects / dataset_sizes[phase]
            print('  {} Loss: {:.4f} Acc: {:.4f}'.format(phase, epoch_loss, float(epoch_acc)))  # (ours)
            history.append({"epoch": epoch, "phase": phase, "loss": epoch_loss, "acc": float(epoch_acc)})

            # deep copy the model
            if phase == 'val' and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
                best_epoch = epoch

    time_elapsed = time.time() - since
    print('  Training complete in {:.0f}m {:.1f}s, best val Acc: {:.4f}'.format(  # (ours)
        time_elapsed // 60, time_elapsed % 60, float(best_acc)))
    LAST_RUN.clear()
    LAST_RUN.update(history=history, best_acc=float(best_acc), best_epoch=best_epoch, time=time_elapsed)

    # load best model weights
    model.load_state_dict(best_model_wts)
    return model


# ------------------------------------------------------------------ (ours) around the tutorial
def val_accuracy(model):
    """The accuracy of ``model`` on ``dataloaders['val']`` in evaluation mode: after train_model
    it must be the best epoch's, since the best weights are loaded back."""
    model.train(False)
    correct = 0
    with tg.no_grad():
        for inputs, labels in dataloaders['val']:
            correct += int(tg.sum(tg.max(model(inputs), 1)[1] == labels))
    return correct / dataset_sizes['val']


def save_checkpoint(model, path):
    if ENGINE == "tinygrad":
        tg.save(model.state_dict(), path)
    else:  # safetensors too: a checkpoint must not be a pickle
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))


def load_resnet18(num_classes, path):
    """A ResNet-18 with the weights in ``path`` (safetensors; for torch also a ``.pth``)."""
    if ENGINE == "tinygrad":
        return models.resnet18(num_classes=num_classes, weights=str(path))
    model = models.resnet18(num_classes=num_classes)
    if str(path).endswith(".safetensors"):
        from safetensors.torch import load_file
        state = load_file(str(path))
    else:
        state = tg.load(str(path), weights_only=True)
    model.load_state_dict(state)
    return model


def record(name, model, extra=None):
    result = dict(LAST_RUN, restored_val_acc=val_accuracy(model), **(extra or {}))
    print(f"  {name}: best val acc {result['best_acc']:.4f} (epoch {result['best_epoch']}), "
          f"restored model's val acc {result['restored_val_acc']:.4f}, {result['time']:.1f} s")
    return result


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", choices=["tinygrad", "torch"], default="tinygrad",
                   help="tinygrad (tinygrad_mnist) or torch: the same program on either")
    p.add_argument("--epochs", type=int, default=3,
                   help="epochs of each transfer run (the tutorial's 25 would take hours on 2 CPU cores)")
    p.add_argument("--pretrain-epochs", type=int, default=3, help="epochs of the pretraining on digits 0-4")
    p.add_argument("--pretrain-lr", type=float, default=0.01,
                   help="SGD rate of the pretraining (ours; momentum 0.9, StepLR(7, 0.1) as the tutorial)")
    p.add_argument("--pretrain-batch-size", type=int, default=32, help="batch size of the pretraining (ours)")
    p.add_argument("--pretrain-per-class", type=int, default=500, help="pretraining images per digit 0-4")
    p.add_argument("--pretrain-crop-scale", type=float, default=0.5,
                   help="smallest crop area of the pretraining's random crops (torchvision's default: 0.08)")
    p.add_argument("--train-per-class", type=int, default=100, help="training images per digit")
    p.add_argument("--val-per-class", type=int, default=50, help="validation images per digit")
    p.add_argument("--image-size", type=int, default=32, help="crop size (the tutorial's 224)")
    p.add_argument("--batch-size", type=int, default=4, help="the tutorial's 4")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", default=None,
                   help="start from this ResNet-18 checkpoint (torchvision's, converted to safetensors) "
                        "instead of pretraining on digits 0-4")
    p.add_argument("--data-dir", default=str(ROOT / "data" / "mnist"), help="the MNIST IDX files")
    p.add_argument("--work-dir", default=str(ROOT / "data" / "tutorial_002_transfer"),
                   help="where the ImageFolder trees and the pretrained checkpoint go")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    return p.parse_args(argv)


def main(argv=None):
    global dataloaders, dataset_sizes
    args = parse_args(argv)
    use_engine(args.engine)
    tinygrad_mnist.manual_seed(args.seed)  # the transforms' random crops and flips, in both engines
    tg.manual_seed(args.seed)  # the engine's initialisation and shuffling
    print(f"---- Transfer learning on {args.engine} (seed {args.seed})")
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    root = make_image_folders(args.data_dir, work / f"digits_{args.image_size}px_{args.pretrain_per_class}"
                              f"_{args.train_per_class}_{args.val_per_class}", args.train_per_class, args.val_per_class,
                              args.image_size, seed=args.seed, pretrain_per_class=args.pretrain_per_class)
    print(f"ImageFolder trees: {root}/pretrain (digits 0-4), {root}/transfer (digits 5-9); "
          f"{args.pretrain_per_class} / {args.train_per_class} train images per digit, "
          f"{args.val_per_class} val images per digit, "
          f"{args.image_size}x{args.image_size} RGB")
    results = {"engine": args.engine, "seed": args.seed, "epochs": args.epochs,
               "train_per_class": args.train_per_class, "val_per_class": args.val_per_class,
               "image_size": args.image_size, "batch_size": args.batch_size}

    criterion = nn.CrossEntropyLoss()

    # ---- the pretrained network: ours on digits 0-4, or torchvision's weights
    if args.weights:
        pretrained, num_pretrained_classes = Path(args.weights), 1000
        print(f"pretrained weights: {pretrained}")
    else:
        dataloaders, dataset_sizes, class_names = load_data(root / "pretrain", args.image_size,
                                                            args.pretrain_batch_size,
                                                            crop_scale=(args.pretrain_crop_scale, 1.0))
        print(f"pretraining a ResNet-18 on {class_names} ({dataset_sizes['train']} images), "
              f"{args.pretrain_epochs} epochs")
        model = models.resnet18(num_classes=len(class_names))
        optimizer = optim.SGD(model.parameters(), lr=args.pretrain_lr, momentum=0.9)
        scheduler = lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)
        model = train_model(model, criterion, optimizer, scheduler, num_epochs=args.pretrain_epochs)
        results["pretrain"] = record("pretraining (digits 0-4)", model)
        pretrained = work / f"resnet18_digits0-4_{args.engine}_seed{args.seed}.safetensors"
        save_checkpoint(model, pretrained)
        print(f"saved the pretrained ResNet-18 to {pretrained}")
        num_pretrained_classes = len(class_names)

    # ---- the new task: digits 5-9
    dataloaders, dataset_sizes, class_names = load_data(root / "transfer", args.image_size, args.batch_size)
    print(f"transfer task: {class_names}, {dataset_sizes['train']} train / {dataset_sizes['val']} val images")

    # (ours) the baseline: the same network and recipe from random weights
    print("-- from scratch")
    model_scratch = models.resnet18(num_classes=len(class_names))
    optimizer_scratch = optim.SGD(model_scratch.parameters(), lr=0.001, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_scratch, step_size=7, gamma=0.1)
    model_scratch = train_model(model_scratch, criterion, optimizer_scratch, exp_lr_scheduler,
                                num_epochs=args.epochs)
    results["scratch"] = record("from scratch", model_scratch)

    # Fine-tuning: every parameter trained, the new fc from scratch
    print("-- fine-tuned")
    model_ft = load_resnet18(num_pretrained_classes, pretrained)  # torchvision.models.resnet18(pretrained=True)
    num_ftrs = model_ft.fc.in_features
    model_ft.fc = nn.Linear(num_ftrs, len(class_names))

    criterion = nn.CrossEntropyLoss()

    optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.001, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=7, gamma=0.1)

    model_ft = train_model(model_ft, criterion, optimizer_ft, exp_lr_scheduler,
                           num_epochs=args.epochs)
    results["finetune"] = record("fine-tuned", model_ft)

    # Frozen features: only the new fc is trained
    print("-- frozen features")
    model_conv = load_resnet18(num_pretrained_classes, pretrained)
    for param in model_conv.parameters():
        param.requires_grad = False
    body = {k: v.detach().clone() for k, v in model_conv.named_parameters()}  # (ours) to check below

    # Parameters of newly constructed modules have requires_grad=True by default
    num_ftrs = model_conv.fc.in_features
    model_conv.fc = nn.Linear(num_ftrs, len(class_names))

    criterion = nn.CrossEntropyLoss()

    optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.001, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=7, gamma=0.1)

    model_conv = train_model(model_conv, criterion, optimizer_conv,
                             exp_lr_scheduler, num_epochs=args.epochs)
    unchanged = all(tg.equal(p, body[k]) for k, p in model_conv.named_parameters() if not k.startswith("fc."))
    trainable = sorted(k for k, p in model_conv.named_parameters() if p.requires_grad)
    results["frozen"] = record("frozen features", model_conv,
                               {"body_unchanged": unchanged, "trainable": trainable})

    # ---- (ours) side by side
    print(f"\nTransfer to digits 5-9 on {args.engine}, seed {args.seed}, {args.epochs} epochs, "
          f"{dataset_sizes['train']} train / {dataset_sizes['val']} val images:")
    print(f"  {'variant':<16}{'best val acc':>14}{'time':>10}")
    for key, name in (("scratch", "from scratch"), ("finetune", "fine-tuned"), ("frozen", "frozen features")):
        print(f"  {name:<16}{100 * results[key]['best_acc']:>13.1f}%{results[key]['time']:>9.1f}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)
    return results


if __name__ == "__main__":
    main()
