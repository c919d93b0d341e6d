"""Every word the workbench shows, in Chinese and English: one catalogue, the lessons' own `Text`.

Words a lesson yields (split names, result keys, table columns) come from the lesson itself
(`Lesson.label`); everything else the app says is here. No Textual, no torch.
"""

from __future__ import annotations

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
    "runs help": T("Enter：叠加到图上 · y：复制路径", "Enter: overlay on the charts · y: copy the path"),
    # messages
    "busy": T("{lesson} 正在训练：先按 s 停止", "{lesson} is training: stop it first (s)"),
    "no model": T("还没有训练好的模型：先运行这一课（r），第一个 epoch 结束后就能试",
                  "no trained model yet: run the lesson (r); the box answers once its first epoch ends"),
    "thinking": T("计算中…", "thinking…"),
    "try failed": T("没能回答：{error}", "no answer: {error}"),
    "records off": T("{error}：照常训练，但不保存运行记录", "{error}: training goes on without run records"),
    "stopping": T("正在停止…", "stopping…"),
    "ended finished": T("完成 {done} 个 {unit}", "finished {done} {units}"),
    "ended stopped": T("在 {unit} {done} 停止", "stopped at {unit} {done}"),
    "ended diverged": T("在 {unit} {done} 发散（出现 inf 或 nan）：试试更小的学习率",
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
    # issue 17: the model's shapes, worked out before training (the form and `labapp run`)
    "shapes before training": T("训练前算出的形状（N：批大小）", "Shapes before training (N: batch size)"),
    "shapes unavailable": T("形状：表单里有参数不对，改正后这里显示各层的形状",
                            "Shapes: a value in the form is wrong; once it is right, each layer's shape shows here"),
}


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
