"""Every word the workbench shows, in Chinese and English: one catalogue, the lessons' own `Text`.

Words a lesson yields (split names, result keys, table columns) come from the lesson itself
(`Lesson.label`); everything else the app says is here. No Textual, no torch.
"""

from __future__ import annotations

import re
import unicodedata

from labapp.lesson import Text

T = Text

WORDS: dict[str, Text] = {
    # run states (the keys are the runner's and the records' statuses)
    "idle": T("空闲", "idle"),
    "loading torch": T("正在加载 torch", "loading torch"),
    "waiting for torch": T("等待 torch", "waiting for torch"),
    "starting": T("准备中", "starting"),
    "running": T("训练中", "running"),
    "finished": T("完成", "finished"),
    "stopped": T("已停止", "stopped"),
    "diverged": T("发散", "diverged"),
    "failed": T("失败", "failed"),
    "interrupted": T("中断", "interrupted"),
    "unreadable": T("无法读取", "unreadable"),
    # the status line
    "batch": T("批", "batch"),
    "eta": T("剩余", "eta"),
    "no records": T("不保存记录", "no records"),
    "more": T("按 m 看全文", "m: read all"),
    # tabs and panels
    "learn": T("讲解", "Learn"),
    "train": T("训练", "Train"),
    "code": T("代码", "Code"),
    "results": T("结果", "Results"),
    "runs": T("历史", "Runs"),
    "chart": T("图", "Chart"),
    "no results": T("还没有结果：运行这一课（r）后显示在这里。", "No results yet: run the lesson (r) and they show here."),
    # actions: labels (footer, buttons, palette) and what they do (palette)
    "run": T("运行", "Run"),
    "run about": T("用表单中的参数训练这一课", "train the lesson with the form's values"),
    "stop": T("停止", "Stop"),
    "stop about": T("在当前这一步之后停止训练", "stop the run after its current step"),
    "reset": T("清空", "Reset"),
    "reset about": T("清除这一课的曲线和结果", "clear this lesson's curves and results"),
    "defaults": T("默认值", "Defaults"),
    "defaults about": T("把课程的默认值填回表单", "put the course's values back in the form"),
    "lessons": T("课程", "Lessons"),
    "lessons about": T("显示或隐藏课程列表", "show or hide the lesson list"),
    "panel": T("下一图", "Next"),
    "panel about": T("训练页右侧：下一个图表、结果或历史", "the Train tab's next chart, results or runs"),
    "zoom": T("全屏", "Zoom"),
    "zoom about": T("全屏显示当前的图表或面板，再按一次还原", "the current chart or panel full screen, and back"),
    "log": T("对数", "Log"),
    "log about": T("纵轴取 log10", "plot log10 of the values"),
    "earlier": T("旧运行", "Earlier"),
    "earlier about": T("显示或隐藏这一课之前的运行", "show or hide earlier runs of this lesson"),
    "messages": T("消息", "Messages"),
    "no messages": T("还没有消息", "no messages yet"),
    "messages about": T("完整的消息记录", "every message, whole"),
    "lang": T("EN", "中文"),
    "lang about": T("切换语言：中文 / English", "switch the language: 中文 / English"),
    "screenshot": T("截图", "Screenshot"),
    "screenshot about": T("把屏幕存为 SVG，放在运行记录旁边", "save the screen as SVG, next to the run"),
    "save code": T("保存代码", "Save code"),
    "save code about": T("把这份程序存成 .py 文件，放在运行记录旁边", "save this program as a .py file, next to the run"),
    "quit": T("退出", "Quit"),
    "quit about": T("退出（正在进行的运行会先停止并记录）", "quit (a run in progress is stopped and recorded first)"),
    "overlay": T("叠加", "Overlay"),
    "copy": T("复制路径", "Copy path"),
    "copy about": T("复制所选运行（或最近一次运行）的文件夹路径", "copy the folder of the chosen run (or the latest)"),
    "leave field": T("离开输入框", "leave field"),
    "next field": T("下一项", "next field"),
    "palette": T("命令", "palette"),
    # step mode: one parameter update at a time (the step key, the step panel, `labapp run --steps`)
    "step": T("单步", "Step"),
    "step about": T("只做一次参数更新并显示它；再按做下一次，“运行”则全速跑完",
                    "make one parameter update and show it; again for the next; Run goes on at full speed"),
    "stepping": T("单步中", "stepping"),
    "step mode": T("单步模式", "step mode"),
    "step head": T("第 {number} 次更新 · {unit} {epoch}", "update {number} · {unit} {epoch}"),
    "step batch": T("批数据", "batch"),
    "step forward": T("前向", "forward"),
    "step grads": T("梯度", "gradients"),
    "step update": T("更新", "update"),
    "step chart": T("图上", "chart"),
    "step no point": T("没有新点（每{unit}结束时画一个）", "no new point (one per {unit}, at its end)"),
    "step graph": T("计算图（节点的值，梯度 ∂l/∂节点）", "computational graph (node values, ∂l/∂node)"),
    "step panel": T("单步", "Step"),
    "no step yet": T("按 {step} 做一次参数更新：这里显示它用的批数据、前向的值、损失、梯度和更新。",
                     "Press {step} for one parameter update: its batch, forward values, loss, gradients and update "
                     "show here."),
    "step next": T("{step} 下一次 · {run} 全速跑完 · {stop} 停止", "{step} next · {run} run on · {stop} stop"),
    "no step mode": T("{problem}；可以单步的课：{lessons}", "{problem}; lessons with step mode: {lessons}"),
    "running on": T("全速继续训练", "running on at full speed"),
    # the form
    "device help": T("训练所用的设备", "where training runs"),
    "seed help": T("随机种子：相同的种子得到相同的结果", "random seed: the same seed gives the same run"),
    "on": T("开", "on"),
    "off": T("关", "off"),
    # the runs panel
    "started": T("开始", "started"),
    "status": T("状态", "status"),
    "changed": T("改动的参数", "changed"),
    "final": T("最终", "final"),
    "course defaults": T("课程默认值", "course defaults"),
    "no runs": T("这一课还没有保存的运行。", "No runs of this lesson on disk yet."),
    "runs help": T("Enter：叠加到图上 · y：复制路径 · c：继续已停止的运行 · e：导出 CSV 和 SVG",
                   "Enter: overlay on the charts · y: copy the path · c: resume a stopped run · e: export CSV and SVG"),
    # messages
    "busy": T("{lesson} 正在训练：先按 s 停止", "{lesson} is training: stop it first (s)"),
    "no model": T("还没有训练好的模型：先运行这一课（r），第一轮结束后就能试",
                  "no trained model yet: run the lesson (r); the box answers once its first epoch ends"),
    "thinking": T("计算中…", "thinking…"),
    "try failed": T("没能回答：{error}", "no answer: {error}"),
    "records off": T("{error}：照常训练，但不保存运行记录", "{error}: training goes on without run records"),
    "stopping": T("正在停止…", "stopping…"),
    "ended finished": T("完成 {done} {unit}", "finished {done} {units}"),
    "ended stopped": T("在第 {done} {unit}停止", "stopped at {unit} {done}"),
    "ended diverged": T("在第 {done} {unit}发散（出现 inf 或 nan）：试试更小的学习率",
                        "diverged at {unit} {done} (a value became inf or nan): try a smaller learning rate"),
    "ended failed": T("失败：{message}", "failed: {message}"),
    "run folder": T("运行记录：{path}", "run folder: {path}"),
    "copied": T("已复制：{path}", "copied: {path}"),
    "overlaid": T("已叠加：{label}", "overlaid: {label}"),
    "removed": T("已取消叠加：{label}", "no longer overlaid: {label}"),
    "screenshot saved": T("截图已保存：{path}", "screenshot saved: {path}"),
    "code saved": T("程序已保存：{path}", "program saved: {path}"),
    "save failed": T("无法保存：{error}", "cannot save: {error}"),
    "no program": T("# 这一课还没有独立的课程程序；下面是它在 labapp 中的模块。",
                    "# No standalone course program for this lesson yet; below is its labapp module."),
    "torch failed": T("torch 无法加载：{error}", "torch could not load: {error}"),
    # sweeps (labapp sweep and the workbench): the ranked table, the status line, messages
    "sweep sorted": T("按最终的 {metric} 排序，{better}{over}；发散、失败和停止的运行排在最后",
                      "sorted by final {metric}, {better}{over}; diverged, failed and stopped runs last"),
    "sweep lower": T("越小越好", "lower is better"),
    "sweep higher": T("越大越好", "higher is better"),
    "sweep over seeds": T("；{seeds} 个种子的均值 ± 标准差", "; mean ± std over {seeds} seeds"),
    "sweep final": T("最终 {metric}", "final {metric}"),
    "sweep folder": T("运行记录", "run folder"),
    "sweep folders": T("运行记录", "run folders"),
    "sweep not recorded": T("（未保存）", "(not recorded)"),
    "sweep seed": T("  种子 {seed}", "  seed {seed}"),
    "sweep k of n": T("（{n} 个中 {k} 个）", " ({k} of {n})"),
    "sweep": T("扫描", "sweep"),
    "sweep done": T("扫描完成：{done} 次运行", "sweep done: {done} runs"),
    "sweep stopped": T("扫描已停止：{count} 次中运行了 {done} 次（完成 {finished} 次），结果页列出这些运行",
                       "sweep stopped after {done} of {count} runs ({finished} finished); Results lists them"),
    "sweep best": T("；最好的是 {label}（历史页标 ★）", "; best {label} (★ in Runs)"),
    "sweep table": T("扫描结果", "Sweep results"),
    "sweep so far": T("（{count} 次中已结束 {done} 次）", " ({done} of {count} runs ended)"),
    "best": T("★ 扫描中最好的一次", "★ the sweep's best"),
    "sweep program": T("# 表单是一次扫描（{count} 次运行）：下面是第一次运行（{label}）的程序。",
                       "# The form is a sweep ({count} runs): below is the program of its first run ({label})."),
    "sweep no step": T("单步模式一次只走一次运行：先把表单里的列表改成一个值",
                       "step mode steps through one run: give one value, not a list, in the form"),
    # errors explained (labapp/torch_errors.py: the table of errors; these words frame a row of it)
    "torch error explained": T("这是什么意思：{meaning} 通常的改法：{fix}", "What it means: {meaning} The usual fix: {fix}"),
    "ended failed explained": T("失败：{explained}（torch 的原话：“{message}”）", "failed: {explained} (torch said: {message})"),
    # checkpoints, resume and export (issue 16)
    "resume": T("继续", "Resume"),
    "resume about": T("从最后一个检查点接着训练所选的已停止运行（没有选中时：最近一次运行）",
                      "continue the chosen stopped run (else the latest) from its last checkpoint"),
    "resume none": T("这一课还没有可以继续的运行", "this lesson has no run to resume"),
    "resume wait": T("torch 还在加载：稍后再按 c 继续", "torch is still loading: press c again in a moment"),
    "export": T("导出", "Export"),
    "export about": T("把所选运行（或最近一次运行）的指标存为 CSV、图表存为 SVG，放在它的文件夹里",
                      "save the chosen run's (or the latest run's) metrics as CSV and charts as SVG, in its folder"),
    "exported": T("已导出 {csv} 和 {svg}，在 {path}", "exported {csv} and {svg} to {path}"),
    "export none": T("还没有运行可以导出：先运行这一课（r）", "no run to export yet: run the lesson (r) first"),
    "export failed": T("无法导出：{error}", "cannot export: {error}"),
    # -- polish: units, progress, panel names, results that continue ---------------------------------
    # a lesson's unit as a counting word ("100 轮", "epoch 3/100"); its axis name is Lesson.label(unit)
    "unit epoch": T("轮", "epoch"),
    "unit step": T("步", "step"),
    "unit evaluation": T("次", "evaluation"),
    "progress": T("第 {done}/{total} {unit}", "{unit} {done}/{total}"),
    # what the classifier gets wrong (labapp/confusion.py) and its panel
    "mistakes": T("错在哪里", "Mistakes"),
    "confusion right": T("{total} 个中答对 {right} 个（{share}）", "{right} of {total} right ({share})"),
    "confusion pairs": T("最常混淆（真实 → 预测）", "Most confused (true → predicted)"),
    "confusion pair": T("{count} 次，占真实为 {true} 的 {share}", "{count} times, {share} of true {true}"),
    "confusion no mistakes": T("没有错误", "no mistakes"),
    "confusion counts": T("个数（行：真实类别，列：预测类别）", "Counts (rows: the true class, columns: the predicted)"),
    "confusion shares": T("占每个真实类别的百分比（· 为 0），右边是每一类的准确率",
                          "% of each true class (· none); at the right, each class's accuracy"),
    "confusion capped": T("；99 表示 99 或以上", "; 99 means 99 or more"),
    "confusion accuracy": T("准确率", "accuracy"),
    "confusion gallery": T("模型最有把握的错误：{shown} 个（共错 {wrong} 个）", "The mistakes it was surest of: {shown} of {wrong}"),
    "confusion gallery key": T("真实 → 预测，模型给这个答案的概率", "true → predicted, the probability the model gave its answer"),
    "confusion row": T("第 {n} 行", "row {n}"),
    "confusion empty": T("没有可数的答案", "no answers to count"),
    # issue 17: the model's shapes, worked out before training (the form and `labapp run`)
    "shapes before training": T("训练前算出的形状（N：批大小）", "Shapes before training (N: batch size)"),
    "shapes unavailable": T("形状：表单里有参数不对，改正后这里显示各层的形状",
                            "Shapes: a value in the form is wrong; once it is right, each layer's shape shows here"),
    # resume (c) in the workbench: its own words, never the CLI's flags
    "resume no checkpoints": T("{lesson} 不保存检查点，所以它的运行不能继续；能继续的课：{lessons}",
                               "{lesson} keeps no checkpoints, so its runs cannot be resumed; lessons that can: {lessons}"),
    "resume not resumable": T("这次运行的状态是“{status}”：只有已停止或中断的运行才能继续（{path}）；"
                              "要多训练几轮，在表单里加大 epochs，再按 r 运行",
                              "this run is {status}: only a stopped or interrupted run can be resumed ({path}); "
                              "to train for more epochs, raise epochs in the form and run again (r)"),
    "resume no checkpoint": T("这次运行没有留下检查点，不能继续（{path}）；工作台为这些课保存检查点：{lessons}",
                              "this run kept no checkpoint, so it cannot be resumed ({path}); "
                              "the workbench keeps them for {lessons}"),
    "resume refused": T("不能继续这次运行：{reason}", "cannot resume this run: {reason}"),
    # issue 11 (walk): what an empty chart needs, said from the chart's own declaration (Chart.needs)
    "chart needs": T("这张图只在 {settings} 时才有数据点（在左边的表单里设置）",
                     "this chart fills only when {settings} (set it in the form)"),
    "chart setting": T("{name} 为 {value}", "{name} is {value}"),
    "chart settings and": T("且", " and "),
    # a sweep's first line in the message log (labapp.sweep.Grid.describe)
    "sweep of": T("扫描 {lesson}：{parts}；{seeds}：共 {count} 次运行", "sweep of {lesson}: {parts}; {seeds}: {count} {runs}"),
    "sweep nothing varies": T("没有参数变化", "no param varies"),
    "sweep seeds": T("种子 {seeds}", "seeds {seeds}"),
    "sweep one seed": T("种子 {seeds}", "seed {seeds}"),
    "sweep takes one": T("（{name} 在扫描中只取一个值，不取列表：{value}）",
                         " ({name} takes one value in a sweep, not a list: {value})"),
    # issue 11 (zh words): the heat map's key, a view that cannot be drawn, a record's fields
    "heatmap key": T("（空白 = 最低，@ = 最高）", "(blank = lowest, @ = highest)"),
    "heatmap key mark": T("（空白 = 最低，@ = 最高，X = 最低点，在 {x}={x_value:g}、{y}={y_value:g}）",
                          "(blank = lowest, @ = highest, X = minimum at {x}={x_value:g}, {y}={y_value:g})"),
    "cannot draw": T("{title}：无法显示（{error}）", "{title}: cannot draw ({error})"),
    # the runner's own words for how a run ended (written in en to its records; `runner_words` says them in zh)
    "runner diverged value": T("在第 {n} {unit}发散：{name} 变成了 {value}；试试更小的学习率",
                               "diverged at {unit} {n}: {name} became {value}; try a smaller learning rate"),
    "runner diverged overflow": T("在第 {n} {unit}发散：有一个值大到浮点数存不下（{error}）；试试更小的学习率",
                                  "diverged at {unit} {n}: a value grew too large for a float ({error}); "
                                  "try a smaller learning rate"),
    "runner stopped stepping": T("在第 {n} {unit}停止（单步模式，第 {update} 次更新之后）",
                                 "stopped at {unit} {n} in step mode, after update {update}"),
}
RUNNER_WORDS = ("runner diverged value", "runner diverged overflow", "runner stopped stepping")


def unit_word(unit: str, lang: str) -> str:
    """A lesson's unit ('epoch', 'step', 'evaluation') as a counting word in `lang`."""
    key = f"unit {unit}"
    return say(key, lang) if key in WORDS else unit


def runner_words(message: str, lang: str) -> str:
    """The runner's message (always written in en, one of RUNNER_WORDS) in `lang`; any other message as it is."""
    for key in RUNNER_WORDS:
        template = re.escape(WORDS[key]("en")).replace(r"\{", "{").replace(r"\}", "}")
        found = re.fullmatch(re.sub(r"\{(\w+)\}", r"(?P<\1>.+?)", template), message)
        if found:
            values = found.groupdict()
            return say(key, lang, **{**values, "unit": unit_word(values["unit"], lang)})
    return message


def status_word(status: str, lang: str) -> str:
    """A run's status or the workbench's state ('finished', 'loading torch') in `lang`; one it does not know, as is."""
    return say(status, lang) if status in WORDS else status


def colon(before: str) -> str:
    """The colon that follows `before`: full-width after a Chinese name ('参数总数：', 'N、L：'), ': ' after any other
    ('params: ')."""
    return "：" if any(map(wide, before)) else ": "


def labelled(name: str, value: object) -> str:
    """'name: value', with the colon that follows `name` ('参数总数：575,050', 'parameters: 575,050')."""
    return f"{name}{colon(name)}{value}"


def wide(ch: str) -> bool:
    """Whether `ch` takes two terminal columns (a Chinese character or punctuation)."""
    return unicodedata.east_asian_width(ch) in "WF"


def join_words(*words: str) -> str:
    """Words joined by spaces, except between two Chinese characters ('测试集准确率', 'test accuracy')."""
    out = ""
    for word in (w for w in words if w):
        out += ("" if not out or (wide(out[-1]) and wide(word[0])) else " ") + word
    return out


def say(key: str, lang: str, **values: object) -> str:
    """The catalogue's `key` in `lang`, with `values` filled in."""
    text = WORDS[key](lang)
    return text.format(**values) if values else text


def width(text: str) -> int:
    """Columns that `text` takes in a terminal (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit(text: str, columns: int) -> str:
    """`text` cut to `columns` terminal columns, ending in '…' when cut."""
    if width(text) <= columns:
        return text
    out, used = [], 0
    for ch in text:
        w = width(ch)
        if used + w > columns - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


# issue 11 (walk): a number and the Chinese word after it stay on one line of the Learn tab
_FENCED = re.compile(r"(```.*?```)", re.S)  # code blocks: left as written
_INLINE = re.compile(r"(`[^`\n]*`)")  # inline code: left as written (a number in it is glued to what follows)
_CJK = "[\u3400-\u9fff\uf900-\ufaff]"
_NUMBER = r"(?:\d(?:[\d.,%]*[\d%])?|[⁰¹²³⁴-⁹])"  # 100, 0.5, 10%, x²; not a list's '1. '
_NUMBER_THEN_CJK = re.compile(rf"({_NUMBER}) +(?={_CJK})")
_NUMBER_CODE = re.compile(rf"`{_NUMBER}`")
_SPACES_THEN_CJK = re.compile(rf"^ +(?={_CJK})")


def glue_numbers(markdown: str) -> str:
    """zh Markdown with the space between a number (`2` in code too) and the Chinese word after it taken out
    ('100 轮' -> '100轮'): a terminal wraps at spaces, so the number can no longer end a line with its unit on the next."""
    out = []
    for n, part in enumerate(_FENCED.split(markdown)):
        if n % 2:
            out.append(part)
            continue
        pieces = _INLINE.split(part)  # prose, code, prose, ...
        for i in range(0, len(pieces), 2):
            pieces[i] = _NUMBER_THEN_CJK.sub(r"\1", pieces[i])
            if i and _NUMBER_CODE.fullmatch(pieces[i - 1]):
                pieces[i] = _SPACES_THEN_CJK.sub("", pieces[i])
        out.append("".join(pieces))
    return "".join(out)
