"""pytest plugin: flowserv-core's suite with flowserv_fsspec.use_in_flowserv() active."""
from flowserv_fsspec import use_in_flowserv


use_in_flowserv()


def pytest_terminal_summary(terminalreporter):
    import flowserv.controller.serial.engine.base as engine
    import flowserv.service.local as local
    import flowserv.volume.factory as factory
    import flowserv.volume.manager as manager
    terminalreporter.write_line('volume factories in use: ' + ', '.join(
        m.Volume.__module__ for m in (factory, manager, local, engine)))
