"""Every text the dashboard shows, in Spanish (the programme's language) and English, and the
locale-aware formatting of numbers, dates and country names (Babel: CLDR's data).

`Texts(lang)` is what the chart and page builders get: `texts["key"]` or `texts("key", n=5)`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from idbx.dashboard.settings import LOCALES

_TEXTS: dict[str, tuple[str, str]] = {
    # (Spanish, English)
    "site_title": ("Programa IDBx: panel de indicadores", "IDBx programme: indicators dashboard"),
    "overview": ("Resumen del programa", "Programme overview"),
    "courses": ("Cursos", "Courses"),
    "indicators": ("Indicadores", "Indicators"),
    "rejects": ("Datos rechazados", "Rejected data"),
    "skip": ("Saltar al contenido", "Skip to content"),
    # data freshness
    "data_through": ("Datos hasta el {date}", "Data through {date}"),
    "last_build": ("última construcción: {when}", "last build: {when}"),
    "log_period": (
        "registros del {start} al {end}: {rejected} líneas rechazadas, {late} eventos tardíos",
        "logs of {start} to {end}: {rejected} rejected lines, {late} late events",
    ),
    "no_logs": ("sin registros de eventos", "no tracking logs"),
    "delivery_rejects": ("últimas entregas: {rows} filas rechazadas", "latest deliveries: {rows} rejected rows"),
    "see_rejects": ("ver qué se rechazó", "see what was rejected"),
    # course table
    "table_caption": (
        "Cursos del programa. Pulse un encabezado para ordenar.",
        "The programme's courses. Select a heading to sort.",
    ),
    "col_name": ("Curso", "Course"),
    "col_key": ("Clave", "Key"),
    "col_sme": ("Departamento (SME)", "Department (SME)"),
    "col_start": ("Inicio", "Start"),
    "col_end": ("Fin", "End"),
    "col_enrolled": ("Inscritos", "Enrolled"),
    "col_active": ("Activos", "Active"),
    "col_certified": ("Certificados", "Certified"),
    "col_approval": ("Tasa de aprobación", "Approval rate"),
    "col_retired": ("Cuentas retiradas por edX (incluidas)", "Accounts edX retired (included)"),
    "col_registered": ("En el registro", "Registered"),
    "approval_help": (
        "Aprobados (nota igual o superior a la de aprobación) sobre inscritos",
        "Passed (grade at or above the passing grade) over enrolled",
    ),
    "active_help": ("Estudiantes que abrieron el contenido al menos una vez", "Learners who opened the courseware at least once"),
    "yes": ("Sí", "Yes"),
    "no": ("No", "No"),
    "none": ("—", "—"),
    # charts
    "chart_enrolled_by_course": ("Inscritos por curso", "Enrolled learners by course"),
    "chart_enrolled_by_mode": ("Inscritos por modalidad", "Enrolled learners by mode"),
    "chart_weekly_active": ("Estudiantes activos por semana", "Weekly active learners"),
    "chart_daily_active": ("Estudiantes activos por día", "Daily active learners"),
    "chart_certificates": ("Certificados por curso", "Certificates by course"),
    "chart_country": ("Estudiantes por país (perfil)", "Learners by country (profile)"),
    "chart_country_ip": ("Estudiantes por país (dirección IP)", "Learners by country (IP address)"),
    "chart_gender": ("Estudiantes por género", "Learners by gender"),
    "chart_education": ("Estudiantes por nivel educativo", "Learners by level of education"),
    "chart_funnel": ("Participación: vieron, exploraron, certificaron", "Engagement: viewed, explored, certified"),
    "chart_ndays": ("Días con actividad por estudiante", "Days active per learner"),
    "chart_time": ("Tiempo dedicado por estudiante", "Time spent per learner"),
    "note_enrolled": (
        "Filas de inscripción por fecha de creación hasta la instantánea de cada curso, luego los eventos de inscripción; "
        "los {top} cursos con más inscritos, el resto sumado.",
        "Enrollment rows by creation date up to each course's snapshot, then the enrollment events; the {top} courses "
        "with most learners, the rest summed.",
    ),
    "note_weekly": (
        "Definiciones de edX: semanas ISO (lunes a domingo, UTC). En el resumen, suma de los cursos.",
        "edX's definitions: ISO weeks (Monday to Sunday, UTC). In the overview, the sum over courses.",
    ),
    "note_weekly_course": (
        "Definiciones de edX: semanas ISO (lunes a domingo, UTC).",
        "edX's definitions: ISO weeks (Monday to Sunday, UTC).",
    ),
    "note_programme_learners": (
        "Cada estudiante una vez, aunque siga varios cursos.",
        "Each learner once, however many courses they take.",
    ),
    "note_course_profiles": ("Perfiles de la última entrega del curso.", "Profiles of the course's latest delivery."),
    "note_ip": (
        "País de la dirección IP pública del último evento del estudiante en el curso, tenga o no país en su perfil.",
        "Country of the public IP address of the learner's latest event in the course, whether or not their profile gives one.",
    ),
    "chart_video_retention": ("Retención en los vídeos", "Video retention"),
    "note_video_retention": (
        "Por vídeo, estudiantes que vieron cada tramo de 5 segundos en proporción a los que vieron su inicio (definiciones de "
        "edX). Solo vídeos con al menos {min_cell} espectadores al inicio; tramos de menos de {min_cell} no se muestran.",
        "Per video, learners who watched each 5-second segment as a share of those who watched its start (edX's "
        "definitions). Only videos with at least {min_cell} viewers at the start; segments of fewer than {min_cell} not shown.",
    ),
    "note_funnel": (
        "Vieron: abrieron el contenido; exploraron: al menos la mitad de los capítulos; certificados: certificado descargable.",
        "Viewed: opened the courseware; explored: at least half of the chapters; certified: a downloadable certificate.",
    ),
    "axis_date": ("Fecha", "Date"),
    "axis_video_seconds": ("Segundo del vídeo", "Second of the video"),
    "axis_still_watching": ("Siguen viendo", "Still watching"),
    "axis_week": ("Semana", "Week"),
    "axis_learners": ("Estudiantes", "Learners"),
    "axis_course": ("Curso", "Course"),
    "axis_country": ("País", "Country"),
    "axis_category": ("Categoría", "Category"),
    "axis_certificates": ("Certificados", "Certificates"),
    "axis_days_active": ("Días con actividad", "Days active"),
    "axis_time_spent": ("Tiempo dedicado", "Time spent"),
    "legend_course": ("Curso", "Course"),
    "legend_mode": ("Modalidad", "Mode"),
    "legend_label": ("Actividad", "Activity"),
    "legend_measure": ("Medida", "Measure"),
    "tooltip_learners": ("Estudiantes", "Learners"),
    "tooltip_share": ("Proporción", "Share"),
    "tooltip_video": ("Vídeo", "Video"),
    "approved": ("Aprobados", "Passed"),
    "certified": ("Certificados", "Certified"),
    "other_courses": ("Otros cursos", "Other courses"),
    "other": ("Otros", "Other"),
    "other_merged": ("Otros ({merged} grupos)", "Other ({merged} groups)"),
    "suppressed": ("< {min_cell}", "< {min_cell}"),
    "no_data": ("Sin datos todavía.", "No data yet."),
    "too_few": ("Menos de {min_cell} estudiantes: no se muestra.", "Fewer than {min_cell} learners: not shown."),
    "chart_help": (
        "Pase el cursor o toque para ver los valores; pulse la leyenda para resaltar una serie; en las series temporales, "
        "arrastre para desplazarse y use la rueda o pellizque para ampliar (doble clic: volver).",
        "Hover or tap for values; select a legend entry to highlight a series; on time series, drag to pan and scroll "
        "or pinch to zoom (double-click: reset).",
    ),
    "privacy_rule": (
        "Solo datos agregados. En los desgloses, los grupos de menos de {min_cell} estudiantes se suman en «Otros» "
        "(y si «Otros» queda por debajo de {min_cell}, también el grupo más pequeño siguiente); en las series, "
        "los valores de 1 a {below} se muestran como «< {min_cell}».",
        "Aggregates only. In breakdowns, groups of fewer than {min_cell} learners are summed into “Other” (and when "
        "“Other” is still under {min_cell}, the next smallest group joins it); in series, values from 1 to {below} "
        "are shown as “< {min_cell}”.",
    ),
    # course page
    "course_facts": ("Ficha del curso", "Course facts"),
    "course_run": ("Edición", "Course run"),
    "back": ("Volver al resumen", "Back to the overview"),
    "not_registered": ("Este curso no está en el registro de cursos.", "This course is not in the course registry."),
    "snapshot": ("Última entrega: {date}", "Latest delivery: {date}"),
    "no_snapshot": ("Sin entregas de tablas todavía.", "No table delivery yet."),
    "funnel_enrolled": ("Inscritos (tablas o eventos)", "Enrolled (tables or events)"),
    "funnel_viewed": ("Vieron el contenido", "Viewed the courseware"),
    "funnel_explored": ("Exploraron", "Explored"),
    "funnel_certified": ("Certificados", "Certified"),
    "days_one": ("{low} día", "{low} day"),
    "days": ("{low} días", "{low} days"),
    "days_range": ("{low}–{high} días", "{low}–{high} days"),
    "days_more": ("{low} días o más", "{low} days or more"),
    "any_time": ("Cualquier tiempo", "Any time"),
    "reconciliation": ("Conciliación de la última entrega con los eventos", "Latest delivery reconciled with the events"),
    "reconciliation_help": (
        "Inscripciones de la instantánea frente a las que dejan los eventos de inscripción, y filas de cada archivo "
        "según el registro de ingesta frente a las que hay en el lago.",
        "Enrollments in the snapshot against those the enrollment events leave, and rows of each file as the "
        "ingestion counted them against those in the lake.",
    ),
    "col_check": ("Comprobación", "Check"),
    "col_item": ("Qué", "What"),
    "col_as_of": ("Fecha", "As of"),
    "col_expected": ("Esperado", "Expected"),
    "col_found": ("Encontrado", "Found"),
    "col_difference": ("Diferencia", "Difference"),
    "col_status": ("Estado", "Status"),
    "check_enrollments_active": ("Inscripciones activas", "Active enrollments"),
    "check_enrollments_total": ("Inscripciones totales", "Total enrollments"),
    "check_file_rows": ("Filas del archivo", "File rows"),
    "status_ok": ("coincide", "ok"),
    "status_differs": ("difiere", "differs"),
    "status_no events": ("sin eventos", "no events"),
    "status_no snapshot": ("sin instantánea", "no snapshot"),
    "status_missing in bronze": ("falta en el lago", "missing in the lake"),
    "status_not in manifest": ("no está en el registro de ingesta", "not in the ingestion record"),
    "no_checks": ("Sin comprobaciones para este curso.", "No checks for this course."),
    # rejects page
    "rejects_intro": (
        "Filas y líneas que la ingesta no pudo leer, contadas por archivo y motivo. El texto rechazado no se muestra "
        "(puede contener datos personales): está en el lago (vistas table_rejects y event_rejects).",
        "Rows and lines the ingestion could not read, counted by file and reason. The rejected text is not shown "
        "(it may hold personal data): it is in the lake (views table_rejects and event_rejects).",
    ),
    "table_rejects": ("Tablas de cursos (última entrega de cada curso)", "Course tables (each course's latest delivery)"),
    "event_rejects": ("Registros de eventos", "Tracking logs"),
    "late_events": ("Eventos tardíos por archivo de registro", "Late events per log file"),
    "late_help": (
        "Eventos con fecha anterior al día del archivo que los trajo (los clientes móviles los envían tarde).",
        "Events dated before the day of the file that delivered them (mobile clients send them late).",
    ),
    "col_date": ("Fecha", "Date"),
    "col_course": ("Curso", "Course"),
    "col_table": ("Tabla", "Table"),
    "col_file": ("Archivo", "File"),
    "col_reason": ("Motivo", "Reason"),
    "col_rows": ("Filas", "Rows"),
    "col_log_date": ("Día del registro", "Log day"),
    "col_late": ("Eventos tardíos", "Late events"),
    "col_max_late": ("Máximo de días de retraso", "Most days late"),
    "nothing_rejected": ("Nada rechazado.", "Nothing rejected."),
    "no_late": ("Ningún evento tardío.", "No late events."),
    "footer": (
        "Generado por idbx el {when} a partir de los marts (definiciones {version}).",
        "Made by idbx on {when} from the marts (definitions {version}).",
    ),
    # content engagement (chapter funnel, hardest problems) and the overview's headline figures
    "chart_chapter_funnel": ("Alcance de cada capítulo", "Reach of each chapter"),
    "note_chapter_funnel": (
        "Estudiantes que abrieron alguna parte de cada capítulo (eventos o registros de contenido), en el orden del curso; "
        "entre paréntesis, la proporción de los del capítulo anterior.",
        "Learners who opened any part of each chapter (events or courseware records), in course order; in brackets, "
        "the share of the previous chapter's learners.",
    ),
    "reach_share": ("{learners} ({share} del anterior)", "{learners} ({share} of the previous)"),
    "axis_chapter": ("Capítulo", "Chapter"),
    "no_outline": (
        "Sin estructura del curso en las entregas: no se conoce el orden de sus capítulos.",
        "No course structure in the deliveries: the order of its chapters is unknown.",
    ),
    "hardest_problems": ("Problemas más difíciles", "Hardest problems"),
    "hardest_problems_help": (
        "Los problemas con menor proporción de estudiantes que los resolvieron (servidor: eventos problem_check; si no "
        "hay, registros de contenido). Solo problemas con al menos {min_cell} estudiantes que acertaron o ninguno, y al "
        "menos {min_cell} que fallaron o ninguno.",
        "The problems the smallest share of learners got right (server problem_check events; without them, courseware "
        "records). Only problems that at least {min_cell} learners or none got right, and at least {min_cell} or none "
        "did not.",
    ),
    "no_problems": ("Ningún problema con suficientes estudiantes.", "No problem with enough learners."),
    "col_problem": ("Problema", "Problem"),
    "col_chapter": ("Capítulo", "Chapter"),
    "col_attempted": ("Lo intentaron", "Attempted"),
    "col_attempts": ("Intentos", "Attempts"),
    "col_correct_rate": ("Lo resolvieron", "Got it right"),
    "col_first_attempt": ("Al primer intento", "At the first try"),
    "col_to_correct": ("Intentos hasta acertar", "Tries to get it right"),
    "col_source": ("Fuente", "Source"),
    "source_events": ("eventos", "events"),
    "source_courseware": ("registros de contenido", "courseware records"),
    "not_in_outline": ("fuera de la estructura", "not in the outline"),
    "headlines": ("El programa en cifras", "The programme in figures"),
    "headline_active_week": ("Activos esta semana", "Active this week"),
    "source_enrolled": ("filas de inscripción de las últimas entregas", "enrollment rows of the latest deliveries"),
    "source_active_week": (
        "eventos de la semana del {week}, suma de los cursos",
        "events of the week of {week}, summed over courses",
    ),
    "source_certified": (
        "certificados descargables de las últimas entregas",
        "downloadable certificates of the latest deliveries",
    ),
    "source_approval": ("aprobados sobre inscritos, todos los cursos", "passed over enrolled, every course"),
    "empty_courses": ("Cursos sin datos todavía", "Courses with no data yet"),
    "empty_courses_help": (
        "En el registro, sin entregas ni eventos: fuera de la tabla y de los totales.",
        "In the registry, with no delivery and no events: left out of the table and the totals.",
    ),
    "note_enrolled_sources": (
        "Filas de inscripción por fecha de creación y modalidad actual hasta la instantánea de cada curso, luego los "
        "eventos de inscripción; sin restar las bajas, como la columna Inscritos.",
        "Enrollment rows by creation date and current mode up to each course's snapshot, then the enrollment events; "
        "unenrollments not subtracted, as in the Enrolled column.",
    ),
    "note_enrolled_table": (
        "Filas de inscripción por fecha de creación y modalidad actual hasta la instantánea del {snapshot} (termina en "
        "la cifra de Inscritos), luego los eventos de inscripción.",
        "Enrollment rows by creation date and current mode up to the snapshot of {snapshot} (ending at the Enrolled "
        "figure), then the enrollment events.",
    ),
    "note_enrolled_events": (
        "Sin tabla de inscripciones: solo los eventos de inscripción, desde el {start} (los registros no llegan más atrás).",
        "No enrollment table: the enrollment events alone, from {start} (the logs reach no further back).",
    ),
    "note_funnel_enrolled": (
        "Inscritos aquí: {funnel} (filas de inscripción o eventos de inscripción); la tabla de inscripciones sola: {table}.",
        "Enrolled here: {funnel} (enrollment rows or enrollment events); the enrollment table alone: {table}.",
    ),
    "check_course_outline": ("Estructura del curso", "Course outline"),
    "status_no structure": ("sin estructura", "no structure"),
}

_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "gender": {"m": ("Masculino", "Male"), "f": ("Femenino", "Female"), "o": ("Otro", "Other")},
    "education": {
        "p": ("Doctorado", "Doctorate"),
        "p_se": ("Doctorado en ciencias o ingeniería", "Doctorate in science or engineering"),
        "p_oth": ("Doctorado en otra área", "Doctorate in another field"),
        "m": ("Maestría o título profesional", "Master's or professional degree"),
        "b": ("Licenciatura", "Bachelor's degree"),
        "a": ("Título técnico superior", "Associate degree"),
        "hs": ("Secundaria", "Secondary / high school"),
        "jhs": ("Secundaria básica", "Junior secondary / middle school"),
        "el": ("Primaria", "Elementary / primary school"),
        "none": ("Sin educación formal", "No formal education"),
        "other": ("Otra", "Other education"),
    },
    "mode": {
        "audit": ("Oyente", "Audit"),
        "honor": ("Honor", "Honor"),
        "verified": ("Verificado", "Verified"),
        "professional": ("Profesional", "Professional"),
        "no-id-professional": ("Profesional sin verificación", "Professional (no ID)"),
        "credit": ("Crédito", "Credit"),
        "unknown": ("Desconocida", "Unknown"),
    },
    "activity": {
        "ACTIVE": ("Cualquier actividad", "Any activity"),
        "PLAYED_VIDEO": ("Vieron un video", "Played a video"),
        "ATTEMPTED_PROBLEM": ("Intentaron un problema", "Attempted a problem"),
        "POSTED_FORUM": ("Publicaron en el foro", "Posted in the forum"),
    },
}


class Texts:
    """The dashboard's words and formats in one language."""

    def __init__(self, lang: str):
        self.lang = lang
        self._index = ("es", "en").index(lang)
        babel_locale, self.d3_locale = LOCALES[lang]
        self.locale = Locale.parse(babel_locale)
        self._numbers: dict[int | float, str] = {}

    def __getitem__(self, key: str) -> str:
        return _TEXTS[key][self._index]

    def __contains__(self, key: str) -> bool:
        return key in _TEXTS

    def __call__(self, key: str, **values: object) -> str:
        return self[key].format(**values)

    def label(self, kind: str, code: str | None) -> str:
        """The name of a code (gender `f`, education `hs`, mode `verified`, country `MX`, ...)."""
        if code is None:
            return self["other"]
        if kind == "country":
            return self.locale.territories.get(code.upper(), code)
        names = _LABELS[kind].get(code)
        return names[self._index] if names else code

    def number(self, value: int | float | None) -> str:
        if value is None:
            return self["none"]
        # Cached: a site formats tens of thousands of counts, mostly the same few thousand values.
        text = self._numbers.get(value)
        if text is None:
            text = self._numbers[value] = format_decimal(value, locale=self.locale)
        return text

    def percent(self, value: float | None) -> str:
        if value is None:
            return self["none"]
        one_decimal = self.locale.percent_formats[None].pattern.replace("0", "0.0", 1)
        return format_percent(value, format=one_decimal, locale=self.locale)

    def date(self, value: date | None) -> str:
        return self["none"] if value is None else format_date(value, format="medium", locale=self.locale)

    def datetime(self, value: datetime | None) -> str:
        return self["none"] if value is None else format_datetime(value, format="medium", tzinfo=UTC, locale=self.locale) + " UTC"
