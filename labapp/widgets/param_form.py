"""The parameter form: one field per lesson param, validated as you type with the CLI's rules."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static, Switch

from labapp.lesson import BoolParam, ChoiceParam, Lesson, Param, ParamError, Values

DEVICE_HELP = {"zh": "训练所用的设备", "en": "where training runs"}
BUTTONS = {
    "zh": {"run": "运行 r", "stop": "停止 s", "reset": "清空 x", "defaults": "默认值 d"},
    "en": {"run": "Run r", "stop": "Stop s", "reset": "Reset x", "defaults": "Defaults d"},
}


class ParamForm(VerticalScroll, can_focus=False):
    """Fields for a lesson's params, the device picker, and the run buttons."""

    @dataclass
    class Changed(Message):
        """The form's values changed; `valid` says whether they can run."""

        form: ParamForm
        valid: bool

    def __init__(self, lesson: Lesson, texts: dict[str, str], devices: list[tuple[str, str]], device: str,
                 lang: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lesson = lesson
        self.texts = {p.name: texts.get(p.name, p.format(p.default)) for p in lesson.params}
        self.devices = devices
        self.device = device
        self.lang = lang
        self.errors: dict[str, str] = {}
        self.rule_error = ""

    def compose(self) -> ComposeResult:
        """A label, a field and an error line per param; then device and buttons."""
        for param in self.lesson.params:
            yield Label(f"[b]{param.name}[/b] [dim]{param.help(self.lang)}[/dim]", classes="param-label")
            yield self._field(param)
            yield Static("", id=f"error-{param.name}", classes="param-error")
        yield Static("", id="rule-error", classes="param-error")
        yield Label(f"[b]device[/b]  {DEVICE_HELP[self.lang]}", classes="param-label")
        yield Select(self._device_options(), value=self.device, allow_blank=False, id="device", compact=True)
        words = BUTTONS[self.lang]
        with Horizontal(id="buttons"):
            yield Button(words["run"], id="run", variant="success", compact=True)
            yield Button(words["stop"], id="stop", variant="error", compact=True)
        with Horizontal(id="buttons2"):
            yield Button(words["reset"], id="reset", compact=True)
            yield Button(words["defaults"], id="defaults", compact=True)

    def _field(self, param: Param):
        value = self.texts[param.name]
        if isinstance(param, ChoiceParam):
            return Select([(c, c) for c in param.choices], value=param.parse(value), allow_blank=False,
                          id=f"param-{param.name}", compact=True)
        if isinstance(param, BoolParam):
            return Switch(value=param.parse(value), id=f"param-{param.name}")
        return Input(value=value, id=f"param-{param.name}", compact=True)

    def _device_options(self) -> list[tuple[str, str]]:
        options = [("auto", "auto")] + [(f"{name}  {about}", name) for name, about in self.devices]
        if self.device not in {value for _, value in options}:
            options.append((self.device, self.device))
        return options

    def on_mount(self) -> None:
        """Validate the initial values (they may be edits kept from before)."""
        for param in self.lesson.params:
            self._check(param)
        self._announce()

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """Offer the devices torch found, once it has loaded."""
        self.devices = devices
        self.call_after_refresh(self._offer_devices)  # the form may still be mounting

    def _offer_devices(self) -> None:
        select = self.query_one("#device", Select)
        with self.prevent(Select.Changed):
            select.set_options(self._device_options())
            select.value = self.device

    # -- validation -------------------------------------------------------------------------------

    def _check(self, param: Param) -> None:
        try:
            param.parse(self.texts[param.name])
        except ParamError as error:
            self.errors[param.name] = str(error)
        else:
            self.errors.pop(param.name, None)
        message = self.errors.get(param.name, "")
        error_line = self.query_one(f"#error-{param.name}", Static)
        error_line.update(message)
        error_line.set_class(bool(message), "shown")
        self.query_one(f"#param-{param.name}").set_class(bool(message), "invalid")

    def _announce(self) -> None:
        self.rule_error = ""
        if not self.errors:
            try:
                self.lesson.resolve(self.texts)
            except ParamError as error:
                self.rule_error = str(error)
        rule_line = self.query_one("#rule-error", Static)
        rule_line.update(self.rule_error)
        rule_line.set_class(bool(self.rule_error), "shown")
        self.post_message(self.Changed(self, self.valid))

    @property
    def valid(self) -> bool:
        """Whether every field and every cross-field rule accepts the values."""
        return not self.errors and not self.rule_error

    def values(self) -> Values:
        """The validated values; ParamError if the form is not valid."""
        return self.lesson.resolve(self.texts)

    def first_error(self) -> str:
        """The first message the form shows, or ''."""
        return next(iter(self.errors.values()), self.rule_error)

    # -- events -----------------------------------------------------------------------------------

    def _param_of(self, widget_id: str | None) -> Param | None:
        if widget_id and widget_id.startswith("param-"):
            return self.lesson.param(widget_id.removeprefix("param-"))
        return None

    def on_input_changed(self, event: Input.Changed) -> None:
        """Validate as the user types."""
        param = self._param_of(event.input.id)
        if param is not None:
            self.texts[param.name] = event.value
            self._check(param)
            self._announce()

    def on_select_changed(self, event: Select.Changed) -> None:
        """A choice or the device changed."""
        event.stop()
        if event.select.id == "device":
            self.device = str(event.value)
            return
        param = self._param_of(event.select.id)
        if param is not None and event.value is not Select.NULL:
            self.texts[param.name] = str(event.value)
            self._check(param)
            self._announce()

    def on_switch_changed(self, event: Switch.Changed) -> None:
        """A switch flipped."""
        param = self._param_of(event.switch.id)
        if param is not None:
            self.texts[param.name] = param.format(event.value)
            self._check(param)
            self._announce()

    def reset_to_defaults(self) -> None:
        """Put the course's values back in every field."""
        for param in self.lesson.params:
            text = param.format(param.default)
            self.texts[param.name] = text
            field = self.query_one(f"#param-{param.name}")
            with self.prevent(Input.Changed, Select.Changed, Switch.Changed):
                if isinstance(field, Input):
                    field.value = text
                else:
                    field.value = param.default
            self._check(param)
        self._announce()
