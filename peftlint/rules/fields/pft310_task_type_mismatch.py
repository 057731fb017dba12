"""PFT310 task-type-mismatch."""

from __future__ import annotations

from typing import Iterator

from peftlint.codes import Code
from peftlint.diagnostics import Applicability, Diagnostic, Severity
from peftlint.fix.ops import Op, OpKind
from peftlint.model.classes import AUTO_CLASS_TO_TASK_TYPE, CLASSIFIER_AUTO_CLASSES, task_types_of
from peftlint.rules._common import string_items
from peftlint.rules.base import Example, Expect, Rule
from peftlint.rules.callfix import call_fix
from peftlint.rules.context import Context
from peftlint.semantics.matching import wrapper_matches
from peftlint.semantics.suggest import format_names

# A tiny Audio Flamingo 3 (Whisper-like audio encoder + Qwen2 decoder-only LM), which transformers
# lists under AutoModelForSeq2SeqLM although it is no encoder-decoder.
TINY_AUDIO_LLM = (
    '{"model_type": "audioflamingo3", "architectures": ["AudioFlamingo3ForConditionalGeneration"], '
    '"audio_token_id": 100, "text_config": {"model_type": "qwen2", "hidden_size": 32, "intermediate_size": 64, '
    '"num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 2, "vocab_size": 128}, '
    '"audio_config": {"model_type": "audioflamingo3_encoder", "d_model": 32, "encoder_layers": 2, '
    '"encoder_attention_heads": 2, "encoder_ffn_dim": 64}}'
)


def _task_of(ctx: Context) -> str | None:
    """The one peft task type whose transformers auto class lists the built class, else None
    (a class no task mapping lists, such as a vision-language model, or one listed under several).
    transformers lists decoder-only audio LLMs (Voxtral, Audio Flamingo 3, Qwen2-Audio) under
    AutoModelForSeq2SeqLM too; peft's SEQ_2_SEQ_LM is meant for encoder-decoders, and both
    PeftModel classes train these alike, so such a model is not judged."""
    assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
    tasks = task_types_of(ctx.inventory.auto_classes)
    if tasks == ["SEQ_2_SEQ_LM"] and not ctx.inventory.is_encoder_decoder:
        return None
    return tasks[0] if len(tasks) == 1 else None


def _classifier(ctx: Context) -> str | None:
    """The classifier auto class that lists the built class, if any."""
    assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
    return next((a for a in CLASSIFIER_AUTO_CLASSES if a in ctx.inventory.auto_classes), None)


def _head(ctx: Context) -> str | None:
    assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
    if "AutoModelForQuestionAnswering" in ctx.inventory.auto_classes:
        # PeftModelForQuestionAnswering's head: peft.peft_model sets classifier_module_names = ["qa_outputs"]
        return next((n for n in ctx.inventory.names() if n.rsplit(".", 1)[-1] == "qa_outputs"), None)
    return ctx.inventory.seq_cls_head


class TaskTypeMismatch(Rule):
    code = Code.TASK_TYPE_MISMATCH
    name = "task-type-mismatch"
    severity = Severity.WARNING
    summary = "`task_type` disagrees with the model class, or is missing on a classifier."
    docs = """
    `task_type` picks the PeftModel class and decides what happens to a classification head, but
    PEFT never checks it against the model:

    - `CAUSAL_LM` on a sequence classifier fails at the first forward/generate with
      `AttributeError: ... has no attribute 'prepare_inputs_for_generation'`.
    - `SEQ_CLS` on a causal LM silently adds `classifier`/`score` to `modules_to_save`, matching
      nothing.
    - A classifier **without** `task_type` gets no special head handling: the randomly
      initialised head stays frozen and is not saved — and with `"all-linear"` it gets LoRA
      instead of full training.

    The model's task is read from transformers' own auto-model mappings (the class built for the
    model is listed under `AutoModelForCausalLM`, `AutoModelForSeq2SeqLM`,
    `AutoModelForSequenceClassification`, ..., or `AutoModel` for feature extraction), never
    guessed from the class name: `GPT2LMHeadModel` is a causal LM. A class listed under no peft
    task, or under several (vision-language models), is not judged; nor is a decoder-only model
    transformers lists under `AutoModelForSeq2SeqLM` (audio LLMs such as Voxtral or Audio Flamingo
    3, which `CAUSAL_LM` trains as well).

    Fix: set `task_type` to the model's task (`SEQ_CLS` for `...ForSequenceClassification`), or
    put the head into `modules_to_save`.

    ## Fix safety

    The fix writes `task_type=` with the model's task (added to the call, or in place of the
    wrong one). It is unsafe: it changes what is trained and saved (the classification head is
    then trained fully and saved with the adapter), which is the point, but a change of behaviour.
    """
    bad = (Example(
        "from transformers import AutoModelForSequenceClassification\n"
        "from peft import LoraConfig, get_peft_model\n\n"
        'model = AutoModelForSequenceClassification.from_pretrained("roberta-base")\n'
        'config = LoraConfig(target_modules="all-linear")\n'
        "model = get_peft_model(model, config)\n",
        expect=(Expect(5, 10, "the new head `classifier` gets LoRA",
                       detail="the randomly initialised head `classifier` gets LoRA",
                       fixed="from transformers import AutoModelForSequenceClassification\n"
                             "from peft import LoraConfig, get_peft_model\n\n"
                             'model = AutoModelForSequenceClassification.from_pretrained("roberta-base")\n'
                             'config = LoraConfig(target_modules="all-linear", task_type="SEQ_CLS")\n'
                             "model = get_peft_model(model, config)\n"),)),)
    good = (Example(
        "from transformers import AutoModelForSequenceClassification\n"
        "from peft import LoraConfig, get_peft_model\n\n"
        'model = AutoModelForSequenceClassification.from_pretrained("roberta-base")\n'
        'config = LoraConfig(target_modules="all-linear", task_type="SEQ_CLS")\n'
        "model = get_peft_model(model, config)\n"),
        Example(
        "from peft import LoraConfig\n"
        "from transformers import AutoModelForSeq2SeqLM\n\n"
        'model = AutoModelForSeq2SeqLM.from_pretrained("./tiny-audio-llm")\n'
        'config = LoraConfig(target_modules=r".*language_model.*\\.(q_proj|v_proj)", task_type="CAUSAL_LM")\n',
        files=(("tiny-audio-llm/config.json", TINY_AUDIO_LLM),),
        note="A decoder-only audio LLM that transformers lists under AutoModelForSeq2SeqLM."))

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        assert ctx.inventory is not None  # needs_model: the engine runs this rule only with a model
        t = ctx.targeting
        if t is None or ctx.spec.facts.tool == "unsloth":
            return  # unsloth sets task_type itself (CAUSAL_LM, or SEQ_CLS for a classifier)
        if not ctx.inventory.is_pretrained_model:
            return  # the task of a module defined in the code is not known from its class name
        facts = ctx.facts
        info = ctx.config_info
        if info is not None and "task_type" not in info.fields:
            return
        v = ctx.field("task_type")
        task = ctx.view.task_type
        if task is not None and (v is None or v.dynamic or not isinstance(v.value, str)):
            task = task if isinstance(task, str) else None
        expected = _task_of(ctx)
        cls = ctx.inventory.model_class
        span = v.span if v is not None else ctx.spec.span
        if task:
            task = task.rsplit(".", 1)[-1]
            if expected is None or task == expected or (facts is not None and task not in facts.task_types):
                return
            if task == "SEQ_CLS":
                what = ("PEFT adds 'classifier' and 'score' to modules_to_save, which match nothing here (silently), "
                        "and wraps the model as PeftModelForSequenceClassification")
            elif expected in ("SEQ_CLS", "TOKEN_CLS", "QUESTION_ANS") and task in ("CAUSAL_LM", "SEQ_2_SEQ_LM"):
                what = (f"PEFT wraps it as a generation model, which fails at the first forward or generate "
                        f"(AttributeError: '{cls}' object has no attribute 'prepare_inputs_for_generation')")
            else:
                what = "PEFT picks the PeftModel class and head handling from task_type, not from the model"
            yield self.diagnostic(
                ctx, span,
                f"task_type={task!r} but the model is {cls} (task {expected}); use task_type={expected!r}",
                detail=f"{what[0].upper()}{what[1:]}.",
                subject="task_type", fix=call_fix(ctx, Applicability.UNSAFE, f"set task_type={expected!r}",
                                                  [Op(OpKind.SET_ARG, "task_type", value=expected)]))
            return
        classifier = _classifier(ctx)
        if classifier is None:
            return
        head = _head(ctx)
        user_saved = [i.value for i in string_items(ctx, "modules_to_save")]
        if head is None or any(wrapper_matches(m, head) for m in user_saved):
            return
        adapted = [n for n in t.targeted if n == head or n.startswith(head + ".")]
        suggest = AUTO_CLASS_TO_TASK_TYPE.get(classifier)
        fix = f"set task_type={suggest!r}" if suggest else f"add modules_to_save=[{head.rsplit('.', 1)[-1]!r}]"
        if adapted:
            short = f"the new head `{head}` gets LoRA instead of full training"
            what = (f"the randomly initialised head `{head}` gets LoRA ({format_names(adapted, 2)}) instead of full "
                    "training, and its base weights are not saved with the adapter")
        else:
            short = f"the new head `{head}` stays frozen"
            what = f"the randomly initialised head `{head}` stays frozen and is not saved with the adapter"
        yield self.diagnostic(
            ctx, span,
            f"{cls} is a classifier but the config has no task_type: {short}; {fix}",
            detail=f"Without task_type, {what}.",
            subject="task_type", fix=call_fix(ctx, Applicability.UNSAFE, fix,
                                              [Op(OpKind.SET_ARG, "task_type", value=suggest)]) if suggest else None)
