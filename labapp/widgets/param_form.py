"""The parameter form: one field per lesson param and the seed, validated as you type by the controller's Form."""

from __future__ import annotations

from dataclasses import dataclass

from rich.markup import escape
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, Switch

from labapp.actions import BY_NAME
from labapp.controller import Form
from labapp.lesson import BoolParam, ChoiceParam, Param
from labapp.strings import say


class Field(Input):
    """A form field whose own keys (backspace, arrows, ctrl+k, Enter ...) act as they come, in order with the letters
    typed. Textual's Input takes letters at once but acts on its bound keys only once they have bubbled up to the
    app, so a quick (or, under load, late-read) backspace then 5 put the 5 first (Textual issue #6605, open; this
    reads Textual's `_bindings`: recheck on every Textual upgrade)."""

    async def _on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)


class ParamForm(VerticalScroll, can_focus=False):
    """Fields for a Form, the device picker, and the run buttons; the Form keeps texts and errors."""

    @dataclass
    class Changed(Message):
        """The form's values changed; `valid` says whether they can run."""

        form: ParamForm
        valid: bool

    def __init__(self, form: Form, devices: list[tuple[str, str]], lang: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.state = form
        self.devices = devices
        self.lang = lang

    def compose(self) -> ComposeResult:
        """A label (its help whole while the field has focus), a field and an error line per param; then device and buttons."""
        for param in self.state.fields:
            yield Label(f"[b]{param.name}[/b] [dim]{escape(param.help(self.lang))}[/dim]", id=f"label-{param.name}",
                        classes="param-label")
            if isinstance(param, BoolParam):
                with Horizontal(classes="switch-row"):
                    yield self._field(param)
                    yield Static(self._on_off(param), id=f"onoff-{param.name}", classes="on-off")
            else:
                yield self._field(param)
            yield Static("", id=f"error-{param.name}", classes="param-error", markup=False)  # it quotes what was typed
        yield Static("", id="rule-error", classes="param-error", markup=False)
        yield Label(f"[b]device[/b] [dim]{say('device help', self.lang)}[/dim]", id="label-device", classes="param-label")
        yield Select(self._device_options(), value=self.state.device, allow_blank=False, id="device", compact=True)
        with Horizontal(id="buttons"):
            buttons = [("run", "success"), ("stop", "error"), ("reset", "default"), ("defaults", "default")]
            if self.state.lesson.step_mode is not None:
                buttons.insert(2, ("step", "primary"))
            for name, variant in buttons:
                action = BY_NAME[name]
                # the step button's id is not `step`: that is the step panel's
                button = Button(f"{action.label(self.lang)} {action.key}", id=name if name != "step" else "step-button",
                                action=action.target, variant=variant, compact=True)  # type: ignore[arg-type]
                # A click, or the key it shows; never the focus: Enter on a focused Run ran, and the focus then
                # fell to Reset (Run turns off while a run goes), where Enter would clear the results.
                button.can_focus = False
                yield button

    def _field(self, param: Param) -> Widget:
        value = self.state.texts[param.name]
        if isinstance(param, ChoiceParam):
            return Select([(c, c) for c in param.choices], value=param.parse(value), allow_blank=False,
                          id=f"param-{param.name}", compact=True)
        if isinstance(param, BoolParam):
            return Switch(value=param.parse(value), id=f"param-{param.name}")
        return Field(value=value, id=f"param-{param.name}", compact=True)

    def _on_off(self, param: Param) -> str:
        return say("on" if param.parse(self.state.texts[param.name]) else "off", self.lang)

    def _device_options(self) -> list[tuple[str, str]]:
        options = [("auto", "auto")] + [(f"{name}  {about}", name) for name, about in self.devices]
        if self.state.device not in {value for _, value in options}:
            options.append((self.state.device, self.state.device))
        return options

    def on_mount(self) -> None:
        """Show what is wrong with the initial texts (they may be edits kept from before)."""
        self._show_errors()

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """Offer the devices torch found, once it has loaded."""
        self.devices = devices
        self.call_after_refresh(self._offer_devices)  # the form may still be mounting

    def _offer_devices(self) -> None:
        for select in self.query("#device").results(Select):  # none while the form is still composing: it will offer them
            with self.prevent(Select.Changed):
                select.set_options(self._device_options())
                select.value = self.state.device

    def _show_errors(self) -> None:
        for param in self.state.fields:
            message = self.state.errors.get(param.name, "")
            for line in self.query(f"#error-{param.name}").results(Static):
                line.update(message)
                line.set_class(bool(message), "shown")
            self.query(f"#param-{param.name}").set_class(bool(message), "invalid")
        for rule in self.query("#rule-error").results(Static):
            rule.update(self.state.rule_error)
            rule.set_class(bool(self.state.rule_error), "shown")
        self.post_message(self.Changed(self, self.state.valid))

    # -- events -----------------------------------------------------------------------------------

    def _changed(self, widget_id: str | None, text: str) -> None:
        name = (widget_id or "").removeprefix("param-")
        if widget_id and widget_id.startswith("param-") and self.state.texts[name] != text:  # not a widget's first value
            self.state.set(name, text)
            for onoff in self.query(f"#onoff-{name}").results(Static):
                onoff.update(self._on_off(self.state.field(name)))
            self._show_errors()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Validate as the user types."""
        self._changed(event.input.id, event.value)

    def on_select_changed(self, event: Select.Changed) -> None:
        """A choice or the device changed."""
        event.stop()
        if event.select.id == "device":
            self.state.device = str(event.value)
        elif event.value is not Select.NULL:
            self._changed(event.select.id, str(event.value))

    def on_switch_changed(self, event: Switch.Changed) -> None:
        """A switch flipped."""
        name = (event.switch.id or "").removeprefix("param-")
        self._changed(event.switch.id, self.state.field(name).format(event.value))

    def on_descendant_focus(self, event) -> None:
        """The focused field's label shows its help whole."""
        name = (event.widget.id or "").removeprefix("param-")
        for label in self.query(".param-label"):
            if label.has_class("-focused") != (label.id == f"label-{name}"):
                label.set_class(label.id == f"label-{name}", "-focused")
                label.refresh(layout=True)

    def reset_to_defaults(self) -> None:
        """Put the course's values back in every field."""
        self.state.reset()
        for param in self.state.fields:
            field = self.query_one(f"#param-{param.name}")
            with self.prevent(Input.Changed, Select.Changed, Switch.Changed):
                field.value = self.state.texts[param.name] if isinstance(field, Input) else param.default  # type: ignore[attr-defined]
        for param in self.state.fields:
            for onoff in self.query(f"#onoff-{param.name}").results(Static):
                onoff.update(self._on_off(param))
        self._show_errors()
