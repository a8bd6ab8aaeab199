/*
description: >
  Forum threads and comments of each course's latest forum dump (forum_posts), authors
  pseudonymised, without usernames, titles or bodies. Empty when no dump was delivered.
grain: [course_key, post_id]
materialized: view
columns:
  course_key: Short key of the course run.
  course_id: The edX course id.
  post_id: The post's id.
  post_type: CommentThread or Comment.
  thread_id: The thread the post belongs to (its own id for a thread).
  learner_key: Pseudonymous learner key of the author.
  created_at: When the post was written (UTC).
  anonymous: Whether the post is anonymous to everyone.
*/
SELECT
    post.course_key,
    post.course_id,
    post.post_id,
    post.post_type,
    post.thread_id,
    pseudonym.learner_key,
    post.created_at,
    post.anonymous
FROM forum_posts AS post
LEFT JOIN stg__edx__user_pseudonyms AS pseudonym ON pseudonym.user_id = post.author_id
