/*
description: >
  The cohort of each learner in each course, from the latest snapshot of the course-groups tables
  (course_groups_cohortmembership and the group names of course_groups_courseusergroup). Empty
  when they were not delivered.
grain: [course_key, learner_key]
materialized: view
columns:
  course_key: Short key of the course run.
  learner_key: Pseudonymous learner key (in-lake; published as learner_id).
  cohort: Name of the learner's cohort (the first by name if the tables give several).
*/
SELECT
    membership.course_key,
    pseudonym.learner_key,
    min(user_group.name) AS cohort
FROM course_groups_cohortmembership AS membership
JOIN course_groups_courseusergroup AS user_group
    ON user_group.id = membership.course_user_group_id AND user_group.course_key = membership.course_key
JOIN stg__edx__user_pseudonyms AS pseudonym ON pseudonym.user_id = membership.user_id
GROUP BY membership.course_key, pseudonym.learner_key
